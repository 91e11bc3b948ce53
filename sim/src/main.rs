//! Long seed sweeps with a progress display and throughput figures.
//!
//! ```text
//! cargo run -p sim --release -- --seeds 10000 [--start 0] [--threads 2]
//! cargo run -p sim --release -- --fresh --seeds 1000     # seeds derived from SIM_FRESH_SEED
//! cargo run -p sim --release -- --seed 42 [--trace]      # one seed, optionally its trace
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sim::report::{binary_command, derived_seeds, explain, fresh_base, known_core_bug};
use sim::{Sim, SimOptions};

/// The sweep allocates and frees a frame's worth of small values per step; mimalloc's
/// thread-local free lists make that about 11% cheaper than glibc's malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Stop a sweep after this many failures.
const MAX_FAILURES: usize = 50;
/// Full reports printed per invariant (the rest are listed by seed).
const REPORTS_PER_INVARIANT: usize = 2;

struct Args {
    seeds: u64,
    start: u64,
    threads: usize,
    seed: Option<u64>,
    trace: bool,
    fresh: bool,
    baseline: bool,
}

fn usage() -> ! {
    eprintln!("usage: sim [--seeds N] [--start S] [--threads T] [--fresh] [--baseline] | --seed S [--trace]");
    std::process::exit(2)
}

fn parse() -> Args {
    let mut args = Args {
        seeds: 1000,
        start: 0,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        seed: None,
        trace: false,
        fresh: false,
        baseline: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut num = || -> u64 { it.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| usage()) };
        match a.as_str() {
            "--seeds" => args.seeds = num(),
            "--start" => args.start = num(),
            "--threads" => args.threads = usize::try_from(num()).unwrap_or(1).max(1),
            "--seed" => args.seed = Some(num()),
            "--trace" => args.trace = true,
            "--fresh" => args.fresh = true,
            "--baseline" => args.baseline = true,
            _ => usage(),
        }
    }
    args
}

fn main() {
    let args = parse();
    match args.seed {
        Some(seed) => one(seed, args.trace),
        None if args.baseline => baseline(&args),
        None => sweep(&args),
    }
}

fn one(seed: u64, trace: bool) {
    let opts = SimOptions { record_trace: trace, ..SimOptions::default() };
    let mut sim = Sim::new(seed, opts.clone());
    println!("seed {seed}: {}", sim.profile());
    let result = sim.run();
    for line in sim.trace_lines() {
        println!("{line}");
    }
    match result {
        Ok(stats) => println!(
            "ok: {} machine steps, {} virtual ms, trace hash {:016x}",
            stats.steps, stats.virtual_ms, stats.trace_hash
        ),
        Err(f) => {
            println!("{}", explain(&f, &opts, &binary_command(seed)));
            std::process::exit(1);
        }
    }
}

fn sweep(args: &Args) {
    let seeds: Vec<u64> = if args.fresh {
        derived_seeds(fresh_base(), args.seeds as usize)
    } else {
        (args.start..args.start + args.seeds).collect()
    };
    let threads = args.threads.min(seeds.len().max(1));
    println!(
        "sim: {} seeds ({}), {threads} thread(s); replay one with: {}",
        seeds.len(),
        if args.fresh {
            format!("fresh, base {:#x}", fresh_base())
        } else {
            format!("{}..{}", args.start, args.start + args.seeds)
        },
        binary_command(seeds.first().copied().unwrap_or(0)),
    );
    let done = AtomicU64::new(0);
    let steps = AtomicU64::new(0);
    let bytes = AtomicU64::new(0);
    let coverage = Mutex::new(sim::report::Coverage::default());
    let busy_ns = AtomicU64::new(0);
    // Nanoseconds from the start until the last worker finished (the sweep's wall time).
    let finished_ns = AtomicU64::new(0);
    let failures: Mutex<Vec<(u64, String, String)>> = Mutex::new(Vec::new());
    // Failures that are known core-sm bugs (`sim::report::KNOWN_CORE_BUGS`): listed, not fatal.
    let known: Mutex<Vec<(u64, String, String)>> = Mutex::new(Vec::new());
    let started = Instant::now();
    std::thread::scope(|scope| {
        for tid in 0..threads {
            let (seeds, done, steps, bytes, busy_ns, failures, coverage) =
                (&seeds, &done, &steps, &bytes, &busy_ns, &failures, &coverage);
            let known = &known;
            let finished_ns = &finished_ns;
            scope.spawn(move || {
                let t0 = Instant::now();
                for seed in seeds.iter().skip(tid).step_by(threads) {
                    if failures.lock().map_or(true, |f| f.len() >= MAX_FAILURES) {
                        break;
                    }
                    let opts = SimOptions::default();
                    match Sim::new(*seed, opts.clone()).run() {
                        Ok(stats) => {
                            steps.fetch_add(stats.steps, Ordering::Relaxed);
                            bytes.fetch_add(stats.frame_bytes, Ordering::Relaxed);
                            if let Ok(mut c) = coverage.lock() {
                                c.add(&stats.coverage);
                            }
                        }
                        Err(f) => {
                            steps.fetch_add(f.step, Ordering::Relaxed);
                            let report = explain(&f, &opts, &binary_command(*seed));
                            let list = if known_core_bug(&f).is_some() { known } else { failures };
                            if let Ok(mut list) = list.lock() {
                                list.push((*seed, f.invariant.clone(), report));
                            }
                        }
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
                busy_ns.fetch_add(t0.elapsed().as_nanos() as u64, Ordering::Relaxed);
                finished_ns.fetch_max(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
            });
        }
        let mut last_print = Instant::now();
        loop {
            std::thread::sleep(Duration::from_millis(10));
            let all_done = done.load(Ordering::Relaxed) as usize >= seeds.len();
            if !all_done && last_print.elapsed() < Duration::from_millis(250) {
                continue;
            }
            last_print = Instant::now();
            let n = done.load(Ordering::Relaxed);
            let secs = started.elapsed().as_secs_f64();
            let nfail = failures.lock().map_or(0, |f| f.len());
            let nknown = known.lock().map_or(0, |f| f.len());
            eprint!(
                "\r  {n}/{} seeds  {:.0} seeds/s  {:.2}M steps/s  failures: {nfail} (+{nknown} known)   ",
                seeds.len(),
                n as f64 / secs,
                steps.load(Ordering::Relaxed) as f64 / secs / 1e6,
            );
            if n as usize >= seeds.len() || nfail >= MAX_FAILURES {
                break;
            }
        }
    });
    let secs = (finished_ns.load(Ordering::Relaxed) as f64 / 1e9).max(1e-9);
    let n = done.load(Ordering::Relaxed);
    let total_steps = steps.load(Ordering::Relaxed);
    let per_thread = busy_ns.load(Ordering::Relaxed) as f64 / 1e9;
    eprintln!();
    let total_bytes = bytes.load(Ordering::Relaxed);
    if let Ok(c) = coverage.lock() {
        println!("coverage (passing seeds): {c:?}");
    }
    println!(
        "frames: {:.1} MB sent, {:.0} bytes per machine step",
        total_bytes as f64 / 1e6,
        total_bytes as f64 / total_steps.max(1) as f64
    );
    println!(
        "{n} seeds in {secs:.2}s: {:.0} seeds/s, {total_steps} machine steps, {:.2}M steps/s \
         ({threads} threads; {:.2}M steps/s per thread)",
        n as f64 / secs,
        total_steps as f64 / secs / 1e6,
        total_steps as f64 / per_thread.max(1e-9) / 1e6,
    );
    let mut known = known.into_inner().unwrap_or_default();
    known.sort();
    for bug in sim::report::KNOWN_CORE_BUGS {
        let seeds: Vec<String> = known
            .iter()
            .filter(|(_, invariant, report)| *invariant == bug.invariant && report.contains(bug.detail))
            .map(|f| f.0.to_string())
            .collect();
        if !seeds.is_empty() {
            println!(
                "\nknown core-sm bug, {}: {} seed(s): {}\n  {}",
                bug.invariant,
                seeds.len(),
                seeds.join(" "),
                bug.what
            );
        }
    }
    let mut failures = failures.into_inner().unwrap_or_default();
    failures.sort();
    let mut by_invariant: std::collections::BTreeMap<&str, Vec<&(u64, String, String)>> =
        std::collections::BTreeMap::new();
    for f in &failures {
        by_invariant.entry(&f.1).or_default().push(f);
    }
    for (invariant, list) in &by_invariant {
        let seeds: Vec<String> = list.iter().map(|f| f.0.to_string()).collect();
        println!("\n{invariant}: {} seed(s): {}", list.len(), seeds.join(" "));
        for (_, _, report) in list.iter().take(REPORTS_PER_INVARIANT) {
            println!("\n{report}");
        }
    }
    if !failures.is_empty() {
        std::process::exit(1);
    }
}

/// Measures the bare machine on the simulator's workload: records the inputs of the seeds,
/// then times feeding them to fresh machines (draining every output) with no simulator,
/// oracle or trace around it. The ratio to the sweep's steps/s is the checking overhead.
fn baseline(args: &Args) {
    let mut runs = Vec::new();
    for seed in args.start..args.start + args.seeds {
        let opts = SimOptions { record_inputs: true, ..SimOptions::default() };
        let mut sim = Sim::new(seed, opts);
        let _ = sim.run();
        let configs: Vec<_> =
            (0..=sim.recorded_inputs().last().map_or(0, |r| r.0)).map(|g| sim.machine_config(g)).collect();
        runs.push((configs, sim.recorded_inputs().to_vec()));
    }
    let steps: usize = runs.iter().map(|(_, inputs)| inputs.len()).sum();
    let started = Instant::now();
    let mut outputs = 0u64;
    for (configs, inputs) in runs {
        let mut generation = 0;
        let mut machine = core_sm::Machine::new(configs[0].clone());
        for (g, now, input) in inputs {
            if g != generation {
                generation = g;
                machine = core_sm::Machine::new(configs[g as usize].clone());
            }
            machine.handle(now, input);
            while let Some(out) = machine.poll_output() {
                outputs += 1;
                std::hint::black_box(out);
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "bare machine: {steps} steps ({outputs} outputs) of {} seeds in {secs:.2}s: {:.2}M steps/s on one thread",
        args.seeds,
        steps as f64 / secs / 1e6
    );
}
