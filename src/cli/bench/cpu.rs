//! CPU time per phase: this process's (`getrusage`, user + system) and, when `--server-pid`
//! names it, the server's (`/proc/PID/stat`, utime + stime), as a percentage of one core over
//! the phase's wall time (200 % = two cores busy).

use serde::Serialize;
use std::time::{Duration, Instant};

/// CPU time used by this process so far.
fn own() -> Duration {
    // SAFETY: getrusage only writes the struct it is given; a zeroed rusage is a valid value.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid pointer to a rusage.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec.max(0) as u64, (t.tv_usec.max(0) as u32) * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// CPU time used by process `pid` so far, from `/proc/PID/stat`; `None` when it cannot be read
/// (gone, or not Linux).
pub fn of_pid(pid: u32) -> Option<Duration> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text, ticks_per_second())
}

fn ticks_per_second() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as u64 } else { 100 }
}

/// utime + stime of a `/proc/PID/stat` line. The command name (field 2) is in parentheses and
/// may hold spaces and parentheses itself, so fields are counted from the last `)`.
fn parse_stat(text: &str, ticks: u64) -> Option<Duration> {
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    // After the name: state (3), ppid … cmajflt (4–12), utime (14), stime (15).
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    let t = utime + stime;
    Some(Duration::from_secs(t / ticks) + Duration::from_nanos((t % ticks) * 1_000_000_000 / ticks))
}

/// A reading at the start of a phase.
#[derive(Clone, Copy, Debug)]
pub struct Meter {
    at: Instant,
    own: Duration,
    server: Option<(u32, Duration)>,
}

/// CPU use over a phase, in % of one core.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct CpuUse {
    pub client_pct: f64,
    /// `None` without `--server-pid` for this target (or when the process could not be read).
    pub server_pct: Option<f64>,
}

impl Meter {
    pub fn start(server_pid: Option<u32>) -> Meter {
        Meter { at: Instant::now(), own: own(), server: server_pid.and_then(|p| Some((p, of_pid(p)?))) }
    }

    /// Use since [`start`](Self::start).
    pub fn stop(&self) -> CpuUse {
        let wall = self.at.elapsed().as_secs_f64().max(1e-9);
        let pct = |d: Duration| 100.0 * d.as_secs_f64() / wall;
        CpuUse {
            client_pct: pct(own().saturating_sub(self.own)),
            server_pct: self.server.and_then(|(pid, before)| Some(pct(of_pid(pid)?.saturating_sub(before)))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_are_read_from_after_the_name() {
        let line = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 75 0 0 20 0 4 0 123 0 0";
        assert_eq!(parse_stat(line, 100), Some(Duration::from_millis(3250)));
        assert_eq!(parse_stat("garbage", 100), None);
        assert_eq!(parse_stat("1 (x) S 1 2", 100), None);
    }

    fn thread_cpu() -> Duration {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: a valid clock id and a pointer to a timespec.
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
    }

    #[test]
    fn cpu_burnt_here_shows_in_this_process_and_through_proc() {
        let me = std::process::id();
        let (own_before, proc_before) = (own(), of_pid(me).expect("/proc/self/stat"));
        let meter = Meter::start(Some(me));
        let start = thread_cpu();
        let mut x = 0u64;
        while thread_cpu() - start < Duration::from_millis(150) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(std::hint::black_box(1));
        }
        std::hint::black_box(x);
        let u = meter.stop();
        assert!(own() - own_before >= Duration::from_millis(150));
        // /proc counts in clock ticks (10 ms here): allow two.
        assert!(of_pid(me).expect("/proc/self/stat") - proc_before >= Duration::from_millis(130));
        assert!(u.client_pct > 0.0 && u.server_pct.is_some_and(|s| s > 0.0), "{u:?}");
        assert_eq!(Meter::start(Some(u32::MAX)).stop().server_pct, None, "no such process");
    }
}
