//! Readings from `/proc` (Linux only), through the `procfs` crate: a process's memory, CPU
//! time and allowed CPUs, and the machine's load average.

use std::io;

use procfs::process::{Process, Stat, Status};
use procfs::{Current, LoadAverage};

fn process(pid: u32) -> io::Result<Process> {
    let pid = i32::try_from(pid).map_err(io::Error::other)?;
    Process::new(pid).map_err(io::Error::other)
}

fn status(pid: u32) -> io::Result<Status> {
    process(pid)?.status().map_err(io::Error::other)
}

/// Resident set size of `pid` in KiB (`VmRSS` in `/proc/<pid>/status`).
pub fn rss_kib(pid: u32) -> io::Result<u64> {
    status(pid)?
        .vmrss
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no VmRSS line"))
}

/// The CPUs `pid` may run on (`Cpus_allowed_list` in `/proc/<pid>/status`), in `taskset -c`
/// syntax, e.g. `0-1`.
pub fn allowed_cpus(pid: u32) -> io::Result<String> {
    let ranges = status(pid)?
        .cpus_allowed_list
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no Cpus_allowed_list line"))?;
    Ok(cpu_list(&ranges))
}

fn cpu_list(ranges: &[(u32, u32)]) -> String {
    let range = |&(first, last): &(u32, u32)| {
        if first == last {
            first.to_string()
        } else {
            format!("{first}-{last}")
        }
    };
    ranges.iter().map(range).collect::<Vec<_>>().join(",")
}

/// User plus system CPU time of `pid` (all threads), in clock ticks.
pub fn cpu_ticks(pid: u32) -> io::Result<u64> {
    let stat = process(pid)?.stat().map_err(io::Error::other)?;
    Ok(ticks_of(&stat))
}

fn ticks_of(stat: &Stat) -> u64 {
    stat.utime + stat.stime
}

/// CPU time between two [`cpu_ticks`] readings, in seconds.
pub fn ticks_to_secs(before: u64, after: u64) -> f64 {
    after.saturating_sub(before) as f64 / procfs::ticks_per_second() as f64
}

/// The 1-minute load average (`/proc/loadavg`), to show how busy the shared machine was.
pub fn load_average() -> String {
    LoadAverage::current().map_or_else(|_| "?".to_owned(), |load| format!("{:.2}", load.one))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use procfs::FromRead;

    use super::*;

    #[test]
    fn cpu_time_is_user_plus_system() {
        // A command name with spaces and a parenthesis: the fields count from the last ')'.
        let line = "42 (a) b) S 1 2 3 4 5 6 7 8 9 10 170 30 11 12 20 0 3 0 100 2000 300 \
                    18446744073709551615 1 2 3 4 5 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
        let stat = Stat::from_read(line.as_bytes()).unwrap();
        assert_eq!(ticks_of(&stat), 200);
        let hz = procfs::ticks_per_second();
        assert_eq!(ticks_to_secs(hz, hz * 5 / 2), 1.5);
        assert_eq!(ticks_to_secs(10, 5), 0.0);
    }

    #[test]
    fn cpu_lists_read_as_taskset_takes_them() {
        assert_eq!(cpu_list(&[(0, 1)]), "0-1");
        assert_eq!(cpu_list(&[(0, 0), (2, 3), (5, 5)]), "0,2-3,5");
    }

    #[test]
    fn this_process_is_measured() {
        let me = std::process::id();
        assert!(!allowed_cpus(me).unwrap().is_empty());
        assert_ne!(load_average(), "?");

        let before = rss_kib(me).unwrap();
        let touched = vec![1u8; 64 << 20];
        let grown = rss_kib(me).unwrap().saturating_sub(before);
        assert!(grown >= 60 << 10, "64 MiB touched, RSS grew {grown} KiB");
        drop(touched);

        // Spinning for 300 ms shows as CPU time, no more than the cores could give.
        let start = cpu_ticks(me).unwrap();
        let spin = Instant::now();
        while spin.elapsed() < Duration::from_millis(300) {
            std::hint::black_box(spin.elapsed());
        }
        let spent = ticks_to_secs(start, cpu_ticks(me).unwrap());
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let most = spin.elapsed().as_secs_f64() * cores + 0.05;
        assert!(
            (0.05..most).contains(&spent),
            "300 ms of spinning read as {spent} s"
        );
    }
}
