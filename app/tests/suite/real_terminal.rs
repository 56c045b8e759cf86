//! Real mode's terminal: a command on a pseudo-terminal, its output in the emulator's grid
//! (`migralab_app::sessions::real::terminal`), and the real Lab tab's terminal driven through
//! the accessibility tree. A local `/bin/sh` stands in for ssh and the lab's namespaces: the
//! PTY, the keys, the resize and the end of the session are the same. Every wait is bounded
//! and fails instead of hanging.

use crate::common::fresh_dir;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use migralab_app::gui::MigralabApp;
use migralab_app::gui::state::{AppState, Tab};
use migralab_app::sessions::real::terminal::{
    LoginCommand, TermSize, TermState, TerminalSession, Waker,
};
use migralab_sim_core::lang::Lang;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Long enough for a loaded 2-core CI machine; a passing test takes milliseconds.
const WAIT: Duration = Duration::from_secs(10);

fn no_waker() -> Waker {
    Arc::new(|| {})
}

fn sh(script: &str) -> LoginCommand {
    LoginCommand::new("/bin/sh", &["-c", script])
}

/// An interactive shell with a short, known prompt.
fn interactive_sh() -> LoginCommand {
    let mut c = LoginCommand::new("/bin/sh", &["-i"]);
    c.env.push(("PS1".into(), "lab$ ".into()));
    c.env.push(("ENV".into(), String::new()));
    c
}

fn spawn(cmd: &LoginCommand) -> TerminalSession {
    TerminalSession::spawn(cmd, TermSize::new(24, 80), no_waker()).unwrap()
}

/// A line of the screen reads exactly `text`, or the prompt then `text` (a command typed
/// ahead of the prompt is echoed before it): an echoed command line does not count.
fn has_line(screen: &str, text: &str) -> bool {
    screen.lines().any(|l| {
        let l = l.trim_end();
        l == text || l.strip_suffix(text) == Some("lab$ ")
    })
}

fn wait_line(s: &TerminalSession, text: &str) {
    assert!(
        s.wait_for(WAIT, |c| has_line(c, text)),
        "no line {text:?} within {WAIT:?}; the screen:\n{}",
        s.contents()
    );
}

/// Is the process gone (no /proc entry, or a zombie that is not ours to reap)?
fn is_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // The state is the field after the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
    }
}

#[test]
fn output_reaches_the_emulators_grid_with_its_colours() {
    let s = spawn(&sh(r"printf 'plain \033[31mred\033[0m\n'"));
    wait_line(&s, "plain red");
    let (fg, plain) = s.with_screen(|screen| {
        let row = (0..24)
            .find(|r| screen.contents_between(*r, 0, *r, 80).contains("plain red"))
            .unwrap();
        (
            screen.cell(row, 6).unwrap().fgcolor(),
            screen.cell(row, 0).unwrap().fgcolor(),
        )
    });
    assert_eq!(fg, vt100::Color::Idx(1), "`red` is red");
    assert_eq!(plain, vt100::Color::Default);
    let status = s.wait_exit(WAIT).expect("sh exits");
    assert_eq!(status.code(), Some(0));
    assert_eq!(s.state(), TermState::Exited(status));
}

#[test]
fn typed_input_reaches_the_child() {
    let s = spawn(&sh(r#"read line; echo "got:$line""#));
    s.send(b"hello world\r");
    wait_line(&s, "got:hello world");
    assert_eq!(s.wait_exit(WAIT).and_then(|st| st.code()), Some(0));
}

#[test]
fn the_size_and_a_resize_reach_stty() {
    let mut s = spawn(&interactive_sh());
    s.send(b"stty size\r");
    wait_line(&s, "24 80");
    s.resize(TermSize::new(30, 100)).unwrap();
    s.send(b"stty size\r");
    wait_line(&s, "30 100");
    assert_eq!(s.size(), TermSize::new(30, 100));
    assert_eq!(s.with_screen(|screen| screen.size().1.get()), 100);
}

#[test]
fn ctrl_c_interrupts_the_running_command() {
    let s = spawn(&interactive_sh());
    s.send(b"echo sleeping; sleep 30\r");
    wait_line(&s, "sleeping");
    // Ctrl-C for `sleep`, not for the shell between `echo` and `sleep`: wait until it runs.
    let pid = s.pid();
    let sleep_runs = || {
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
            .unwrap_or_default()
            .split_whitespace()
            .any(|c| {
                std::fs::read_to_string(format!("/proc/{c}/comm"))
                    .is_ok_and(|comm| comm.trim() == "sleep")
            })
    };
    let deadline = Instant::now() + WAIT;
    while !sleep_runs() {
        assert!(Instant::now() < deadline, "sleep never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    let start = Instant::now();
    // What the terminal sends for Ctrl-C; the PTY turns it into SIGINT for `sleep`.
    s.send(&[0x03]);
    s.send(b"echo status-$?\r");
    wait_line(&s, "status-130");
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "sleep was cut short"
    );
    assert_eq!(s.state(), TermState::Running, "the shell survives Ctrl-C");
}

#[test]
fn the_exit_status_is_kept() {
    let s = spawn(&sh("exit 3"));
    assert_eq!(s.wait_exit(WAIT).and_then(|st| st.code()), Some(3));
    // Input after the end goes nowhere, without an error or a hang.
    s.send(b"ignored\r");
}

#[test]
fn a_program_that_cannot_start_says_why_on_the_screen() {
    let s = spawn(&LoginCommand::new("/nonexistent/login", &[]));
    let status = s.wait_exit(WAIT).expect("ends");
    assert_ne!(status.code(), Some(0));
    assert!(
        s.wait_for(WAIT, |c| c.contains("/nonexistent/login")),
        "{}",
        s.contents()
    );
}

#[test]
fn dropping_the_session_kills_and_reaps_even_what_ignores_the_hangup() {
    // The shell and its background job ignore SIGHUP (as a stuck ssh might).
    let s = spawn(&sh(r#"trap "" HUP; sleep 1000 & echo "bg $!"; wait"#));
    let pid = s.pid();
    assert!(
        s.wait_for(WAIT, |c| c.lines().any(|l| l.starts_with("bg "))),
        "{}",
        s.contents()
    );
    let contents = s.contents();
    let bg: u32 = contents
        .lines()
        .find_map(|l| l.strip_prefix("bg "))
        .and_then(|p| p.trim().parse().ok())
        .unwrap();
    assert!(!is_gone(pid) && !is_gone(bg));
    let start = Instant::now();
    drop(s);
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "bounded: {:?}",
        start.elapsed()
    );
    // The shell was ours: reaped, so no /proc entry at all.
    assert!(
        std::fs::metadata(format!("/proc/{pid}")).is_err(),
        "the child was reaped"
    );
    // The background job is killed too (its reaping is init's).
    let deadline = Instant::now() + WAIT;
    while !is_gone(bg) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(is_gone(bg), "sleep {bg} was killed");
}

/// The instructor's two ssh hosts; the terminal logs in with `login` instead of ssh.
fn app_with_terminal(login: LoginCommand) -> MigralabApp {
    let mut app = MigralabApp::new(AppState {
        tab: Tab::Lab,
        lang: Lang::En,
        ..AppState::default()
    });
    let data = fresh_dir("gui-real-terminal");
    std::fs::write(
        data.join("instructor.toml"),
        "format = 1\n[real_lab]\nallowed_hosts = [\"qemu+ssh://kvm-host-01/system\", \
         \"qemu+ssh://kvm-host-02/system\"]\nallowed_domains = [\"db01\"]\n",
    )
    .unwrap();
    app.shared.data_dir = Some(data);
    app.real.terminal.login_override = Some(login);
    app
}

#[test]
fn the_real_lab_tab_has_a_terminal_that_runs_what_is_typed() {
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 900.0))
        .with_max_steps(16)
        .build_ui_state(
            |ui, app: &mut MigralabApp| app.ui_root(ui),
            app_with_terminal(interactive_sh()),
        );
    h.run();
    h.get_by_label("REAL").click();
    h.run();
    assert!(h.state().real.on);
    // The chooser offers the instructor's hosts; the first is chosen.
    assert_eq!(
        h.state().real.terminal.host,
        "qemu+ssh://kvm-host-01/system"
    );
    assert!(h.query_by_label("Log in to").is_some());
    assert!(
        h.query_by_label("Host terminal").is_none(),
        "not before Connect"
    );
    h.get_by_label("Connect").click();
    h.run();
    let pid = h.state().real.terminal.session.as_ref().unwrap().pid();
    assert!(
        h.get_by_label("Host terminal").is_focused(),
        "typing goes to the host at once"
    );
    h.get_by_label("Host terminal").type_text("echo hello");
    h.key_press(egui::Key::Enter);
    let deadline = Instant::now() + WAIT;
    loop {
        h.run();
        let shown = h.get_by_label("Host terminal").value().unwrap_or_default();
        if has_line(&shown, "hello") {
            assert!(shown.contains("lab$ echo hello"), "{shown}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no `hello` within {WAIT:?}:\n{shown}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // The command it runs is shown; the session ends with real mode.
    assert!(h.query_by_label("End session").is_some());
    h.get_by_label("SIMULATED").click();
    h.run();
    assert!(h.state().real.terminal.session.is_none());
    assert!(
        std::fs::metadata(format!("/proc/{pid}")).is_err(),
        "the shell was ended and reaped"
    );
}

#[test]
fn the_terminal_says_how_the_session_ended_and_restarts() {
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 900.0))
        .with_max_steps(16)
        .build_ui_state(
            |ui, app: &mut MigralabApp| app.ui_root(ui),
            app_with_terminal(sh("echo bye; exit 7")),
        );
    h.run();
    h.get_by_label("REAL").click();
    h.run();
    h.get_by_label("Connect").click();
    h.run();
    let status = h
        .state()
        .real
        .terminal
        .session
        .as_ref()
        .unwrap()
        .wait_exit(WAIT);
    assert_eq!(status.and_then(|s| s.code()), Some(7));
    h.run();
    assert!(
        h.query_by_label("The session ended with exit code 7.")
            .is_some()
    );
    let first = h.state().real.terminal.session.as_ref().unwrap().pid();
    h.get_by_label("Restart").click();
    h.run();
    let second = h.state().real.terminal.session.as_ref().unwrap().pid();
    assert_ne!(first, second, "a new session");
}
