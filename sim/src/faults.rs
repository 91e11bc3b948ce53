//! Swarm testing: each seed first draws which faults are on and how often, so different seeds
//! stress different combinations instead of every seed averaging over all of them.

use std::fmt;

/// The world's shape and the fault rates for one seed. Rates are probabilities per
/// opportunity (a client action, a load, an engine event, a driver iteration); 0 is off.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultProfile {
    /// Number of fake clients.
    pub clients: usize,
    /// Driver iterations in the fault phase.
    pub fault_steps: usize,
    /// `MachineConfig::thread_unload_delay_ms`, short so idle unloads happen.
    pub unload_delay_ms: u64,
    /// Threads already in storage when the run starts (a previous server's work).
    pub stored_threads: usize,
    /// A client action is replaced by a disconnect.
    pub disconnect: f64,
    /// A reconnecting client resumes every thread it had subscribed to.
    pub reconnect_resume: bool,
    /// Extra weight of `turn/interrupt` among client requests.
    pub interrupt: f64,
    /// A storage load answers after a long delay.
    pub slow_storage: f64,
    /// A storage load fails.
    pub failed_storage: f64,
    /// A storage answer is delivered twice.
    pub duplicate_storage: f64,
    /// An engine event comes after a long delay.
    pub long_engine_delay: f64,
    /// A turn's `TurnStarted` comes late (steers and interrupts hit a submitted turn).
    pub late_turn_start: f64,
    /// A client action is replaced by a malformed frame.
    pub malformed: f64,
    /// A new connection reuses a closed connection's id.
    pub conn_reuse: f64,
    /// The server restarts (fresh machine, same storage, every connection dropped).
    pub restart: f64,
    /// An engine event is delivered twice.
    pub engine_duplicate: f64,
    /// An interrupt reaches the engine too late: the turn ends on its own.
    pub late_interrupt: f64,
    /// An event of a cancelled script (after an interrupt or close) is delivered anyway, as
    /// if it was already in flight.
    pub stale_engine: f64,
    /// A load is answered with another thread's records.
    pub wrong_storage: f64,
}

const RATES: [f64; 4] = [0.005, 0.02, 0.08, 0.25];

impl FaultProfile {
    /// Draws a profile. Each fault kind is on for about half the seeds.
    pub fn draw(rng: &mut fastrand::Rng) -> Self {
        let mut rate = |scale: f64| {
            if rng.bool() {
                RATES[rng.usize(..RATES.len())] * scale
            } else {
                0.0
            }
        };
        let disconnect = rate(1.0);
        let interrupt = rate(1.0);
        let slow_storage = rate(2.0);
        let failed_storage = rate(1.0);
        let duplicate_storage = rate(1.0);
        let long_engine_delay = rate(0.2);
        let late_turn_start = rate(2.0);
        let malformed = rate(1.0);
        let conn_reuse = rate(3.0).min(1.0);
        let restart = rate(0.02);
        let engine_duplicate = rate(0.2);
        let late_interrupt = rate(2.0);
        let stale_engine = rate(1.0);
        let wrong_storage = rate(1.0);
        Self {
            clients: rng.usize(1..=4),
            fault_steps: rng.usize(150..=700),
            unload_delay_ms: [40, 150, 600, 2000][rng.usize(..4)],
            stored_threads: rng.usize(0..=3),
            disconnect,
            reconnect_resume: rng.bool(),
            interrupt,
            slow_storage,
            failed_storage,
            duplicate_storage,
            long_engine_delay,
            late_turn_start,
            malformed,
            conn_reuse,
            restart,
            engine_duplicate,
            late_interrupt,
            stale_engine,
            wrong_storage,
        }
    }

    /// The same world with every fault off (the liveness phase).
    pub fn calm(&self) -> Self {
        Self {
            disconnect: 0.0,
            reconnect_resume: true,
            interrupt: 0.0,
            slow_storage: 0.0,
            failed_storage: 0.0,
            duplicate_storage: 0.0,
            long_engine_delay: 0.0,
            late_turn_start: 0.0,
            malformed: 0.0,
            conn_reuse: 0.0,
            restart: 0.0,
            engine_duplicate: 0.0,
            late_interrupt: 0.0,
            stale_engine: 0.0,
            wrong_storage: 0.0,
            ..self.clone()
        }
    }

    fn faults(&self) -> [(&'static str, f64); 14] {
        [
            ("disconnect", self.disconnect),
            ("interrupt", self.interrupt),
            ("slow-storage", self.slow_storage),
            ("failed-storage", self.failed_storage),
            ("duplicate-storage", self.duplicate_storage),
            ("long-engine-delay", self.long_engine_delay),
            ("late-turn-start", self.late_turn_start),
            ("malformed", self.malformed),
            ("conn-id-reuse", self.conn_reuse),
            ("restart", self.restart),
            ("engine-duplicate", self.engine_duplicate),
            ("late-interrupt", self.late_interrupt),
            ("stale-engine-event", self.stale_engine),
            ("wrong-storage-answer", self.wrong_storage),
        ]
    }
}

impl fmt::Display for FaultProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "clients={} fault-steps={} unload={}ms stored={} reconnect-resume={} | faults:",
            self.clients, self.fault_steps, self.unload_delay_ms, self.stored_threads, self.reconnect_resume
        )?;
        let mut any = false;
        for (name, rate) in self.faults() {
            if rate > 0.0 {
                write!(f, " {name}={rate}")?;
                any = true;
            }
        }
        if !any {
            write!(f, " none")?;
        }
        Ok(())
    }
}
