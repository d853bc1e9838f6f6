//! CI smoke run: the load generator in smoke size (20 connections, 20 events) against the
//! crate's own baseline and bare servers, plan-filtered and unfiltered. Only correctness is
//! asserted (every expected event exactly once, in order, on the right streams), never
//! timing.

use std::path::Path;

use a2a_sse_bench::scenario::LoadConfig;
use a2a_sse_bench::servers::ServerKind;
use a2a_sse_bench::session::measure_server;

fn check(binary: &str, kind: ServerKind) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let filtered = LoadConfig::smoke();
    let unfiltered = LoadConfig {
        plans: 0,
        name: "smoke-unfiltered".into(),
        ..LoadConfig::smoke()
    };
    for config in [filtered, unfiltered] {
        let run = runtime
            .block_on(measure_server(Path::new(binary), kind, &config))
            .unwrap();
        let context = format!("{} / {}: {run:?}", kind.name(), config.name);
        assert_eq!(run.streams.connected, config.connections, "{context}");
        assert_eq!(run.publish_errors, 0, "{context}");
        assert_eq!(run.published, config.events, "{context}");
        assert!(run.streams.expected > 0, "{context}");
        assert_eq!(run.streams.delivered, run.streams.expected, "{context}");
        assert_eq!(run.streams.missing, 0, "{context}");
        assert_eq!(run.streams.duplicated, 0, "{context}");
        assert_eq!(run.streams.out_of_order, 0, "{context}");
        assert_eq!(run.streams.misrouted, 0, "{context}");
        assert_eq!(run.streams.protocol_errors, 0, "{context}");
        assert_eq!(run.streams.ended_early, 0, "{context}");
        assert!(run.is_clean(), "{context}");
    }
}

#[test]
fn smoke_baseline_axum() {
    check(
        env!("CARGO_BIN_EXE_baseline-axum"),
        ServerKind::BaselineAxum,
    );
}

#[test]
fn smoke_baseline_actix() {
    check(
        env!("CARGO_BIN_EXE_baseline-actix"),
        ServerKind::BaselineActix,
    );
}

#[test]
fn smoke_bare() {
    check(env!("CARGO_BIN_EXE_bare"), ServerKind::Bare);
}

#[test]
fn smoke_floors_hold_idle_streams() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for (binary, kind) in [
        (env!("CARGO_BIN_EXE_floor-axum"), ServerKind::FloorAxum),
        (env!("CARGO_BIN_EXE_floor-actix"), ServerKind::FloorActix),
    ] {
        let run = runtime
            .block_on(measure_server(
                Path::new(binary),
                kind,
                &LoadConfig::smoke(),
            ))
            .unwrap();
        assert_eq!(run.streams.connected, 20, "{}: {run:?}", kind.name());
        assert_eq!(
            run.streams.ended_early + run.streams.protocol_errors,
            0,
            "{}: {run:?}",
            kind.name()
        );
    }
}

#[test]
fn a_server_started_with_a_niceness_and_cpus_runs_at_them() {
    use a2a_sse_bench::servers::{Scheduling, launch};
    use a2a_sse_testkit::launcher::{Launcher, Ready};

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let scheduling = Scheduling {
            nice: 7,
            cpus: Some("0".into()),
        };
        let launcher = Launcher::new(env!("CARGO_BIN_EXE_bare"))
            .through(scheduling.prefix())
            .ready(Ready::Accepting);
        let server = launch(launcher).await.unwrap();
        // `nice` and `taskset` replaced themselves with the server: the pid is the
        // server's, at niceness 7 and on CPU 0 only.
        // `nice -n 7` adds to the test's own niceness (a test run under `nice` starts
        // above 0), and the kernel caps the sum at 19.
        let own = procfs::process::Process::myself()
            .unwrap()
            .stat()
            .unwrap()
            .nice;
        let process = procfs::process::Process::new(server.pid() as i32).unwrap();
        assert_eq!(process.stat().unwrap().nice, (own + 7).min(19));
        assert_eq!(
            process.status().unwrap().cpus_allowed_list,
            Some(vec![(0, 0)])
        );
        assert!(process.exe().unwrap().ends_with("bare"));
        drop(server);
    });
}
