//! Server process metrics read from `/proc` (Linux only).

use std::io;

/// Linux exports CPU times in `/proc/<pid>/stat` in units of `USER_HZ`, which is 100 on
/// every Linux ABI regardless of the kernel's internal tick rate.
pub const USER_HZ: u64 = 100;

/// Resident set size of `pid` in KiB (`VmRSS` in `/proc/<pid>/status`).
pub fn rss_kib(pid: u32) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse_vm_rss(&status).ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no VmRSS line"))
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    status_field(status, "VmRSS")?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The CPUs `pid` may run on (`Cpus_allowed_list` in `/proc/<pid>/status`, e.g. `0-1`).
pub fn allowed_cpus(pid: u32) -> io::Result<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status_field(&status, "Cpus_allowed_list")
        .map(str::to_owned)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no Cpus_allowed_list line"))
}

/// The value of the `key:` line of a `/proc/<pid>/status` text, trimmed.
fn status_field<'a>(status: &'a str, key: &str) -> Option<&'a str> {
    status.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        (name == key).then(|| value.trim())
    })
}

/// CPU ticks between two [`cpu_ticks`] readings, in seconds.
pub fn ticks_to_secs(before: u64, after: u64) -> f64 {
    after.saturating_sub(before) as f64 / USER_HZ as f64
}

/// User plus system CPU time of `pid` (all threads), in `USER_HZ` ticks.
pub fn cpu_ticks(pid: u32) -> io::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_cpu_ticks(&stat)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad stat line"))
}

fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    // The command name (field 2) is in parentheses and may contain spaces; fields after the
    // last ')' start at field 3 (state), so utime (14) and stime (15) are at 11 and 12.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_lines() {
        assert_eq!(
            parse_vm_rss("Name:\tx\nVmRSS:\t  12345 kB\nVmData: 1 kB\n"),
            Some(12345)
        );
        let stat = "42 (a b) S 1 2 3 4 5 6 7 8 9 10 170 30 0 0 20 0 3 0";
        assert_eq!(parse_cpu_ticks(stat), Some(200));
        assert_eq!(
            status_field(
                "Cpus_allowed:\t3\nCpus_allowed_list:\t0-1\n",
                "Cpus_allowed_list"
            ),
            Some("0-1")
        );
        assert_eq!(ticks_to_secs(250, 400), 1.5);
        let me = std::process::id();
        assert!(rss_kib(me).unwrap() > 0);
        assert!(!allowed_cpus(me).unwrap().is_empty());
        cpu_ticks(me).unwrap();
    }
}
