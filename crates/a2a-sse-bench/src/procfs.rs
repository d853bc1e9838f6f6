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
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
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
        let me = std::process::id();
        assert!(rss_kib(me).unwrap() > 0);
        cpu_ticks(me).unwrap();
    }
}
