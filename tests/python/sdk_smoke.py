"""The official Codex Python SDK drives turnstile exactly as it drives `codex app-server`."""

import sys

from openai_codex import Codex, CodexConfig


def main(binary: str) -> None:
    config = CodexConfig(codex_bin=binary)  # spawns `<binary> app-server --listen stdio://`
    with Codex(config) as codex:
        thread = codex.thread_start()
        result = thread.run("hi")
        assert str(getattr(result.status, "value", result.status)) == "completed", result
        assert result.final_response == "You said: hi", repr(result.final_response)
        second = thread.run("/exec ls --output README.md\n/message done")
        assert second.final_response == "done", repr(second.final_response)
    print("python sdk: 2 turns ok")


if __name__ == "__main__":
    main(sys.argv[1])
