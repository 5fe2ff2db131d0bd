//! The `ringkernel` binary on real artifacts: every subcommand, every error exit.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

const SOURCE: &str = r#"
#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Order { pub quantity: u32, pub price: f32 }

#[rule(id = "scorer", version = 1)]
fn score_v1(ctx: &mut RingContext, o: Order) -> f32 { o.price * o.quantity as f32 }

#[rule(id = "scorer", version = 2, compute_cap = "sm_80")]
fn score_v2(ctx: &mut RingContext, o: Order) -> f32 { o.price * o.quantity as f32 + 1.0 }

#[derive(RingMessage, Clone, Copy)]
#[repr(u8)]
pub enum Side { Buy = 1, Sell = 2 }

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Book { pub bought: u64, pub sold: u64, pub last: Side }

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Trade { pub side: Side, pub amounts: [u16; 2] }

#[ring_kernel(id = "book")]
fn book(ctx: &mut RingContext, b: &mut Book, t: Trade) -> Book {
    let total = (t.amounts[0] as u64) + (t.amounts[1] as u64);
    match t.side {
        Side::Buy => b.bought += total,
        Side::Sell => b.sold += total,
    }
    b.last = t.side;
    *b
}

#[ring_kernel(id = "twice")]
fn twice(ctx: &mut RingContext, x: i32) -> i32 { x.wrapping_mul(2) }
"#;

/// The same rule id with a message that gained a field.
const WIDER: &str = r#"
#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Order { pub quantity: u32, pub price: f32, pub venue: u16 }

#[rule(id = "scorer", version = 3)]
fn score_v3(ctx: &mut RingContext, o: Order) -> f32 { o.price }
"#;

fn ringkernel() -> Command {
    Command::cargo_bin("ringkernel").expect("the binary is built")
}

struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("rules.rs"), SOURCE).unwrap();
        std::fs::write(dir.path().join("wider.rs"), WIDER).unwrap();
        Workspace { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        ringkernel().current_dir(self.dir.path()).args(args).assert()
    }

    fn compiled(&self) -> &Self {
        self.run(&["compile", "rules.rs", "-o", "out"]).success();
        self
    }
}

fn stdout(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stdout).into_owned()
}

fn stderr(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

fn exit_code(assert: &assert_cmd::assert::Assert) -> Option<i32> {
    assert.get_output().status.code()
}

#[test]
fn compile_writes_one_artifact_per_handler_and_reports_dsl_errors_with_positions() {
    let ws = Workspace::new();
    let done = ws.run(&["compile", "rules.rs", "-o", "out", "--arch", "sm_90"]).success();
    assert!(stdout(&done).contains("scorer v1"), "{}", stdout(&done));
    let v1 = std::fs::read_to_string(ws.path("out/scorer-v1.ptx")).unwrap();
    let v2 = std::fs::read_to_string(ws.path("out/scorer-v2.ptx")).unwrap();
    assert!(v1.contains(".target sm_90"), "--arch is the default target");
    assert!(v2.contains(".target sm_80"), "the attribute's target wins");

    std::fs::write(ws.path("bad.rs"), "#[ring_kernel(id = \"k\")]\nfn k(ctx: &mut RingContext, x: u32) -> u32 {\n    x.frobnicate()\n}\n").unwrap();
    let failed = ws.run(&["compile", "bad.rs", "-o", "out"]).failure();
    assert_eq!(exit_code(&failed), Some(1));
    assert!(stderr(&failed).contains("bad.rs:3:5"), "{}", stderr(&failed));
    assert!(!ws.path("out/k-v1.ptx").exists());

    let missing = ws.run(&["compile", "missing.rs"]).failure();
    assert!(stderr(&missing).contains("missing.rs"), "{}", stderr(&missing));
    std::fs::write(ws.path("empty.rs"), "fn main() {}\n").unwrap();
    let empty = ws.run(&["compile", "empty.rs"]).failure();
    assert!(stderr(&empty).contains("no `#[ring_kernel]`"), "{}", stderr(&empty));
}

#[test]
fn inspect_shows_the_metadata_as_text_and_json() {
    let ws = Workspace::new();
    ws.compiled();
    let text = stdout(&ws.run(&["inspect", "out/scorer-v2.ptx"]).success());
    for expected in [
        "id:         scorer",
        "version:    2",
        "kind:       rule",
        "target:     sm_80",
        "message:    Order size=8",
        "signature:  unsigned",
        "digest:",
    ] {
        assert!(text.contains(expected), "`{expected}` missing from\n{text}");
    }
    let json = stdout(&ws.run(&["inspect", "out/scorer-v2.ptx", "--json"]).success());
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["id"], "scorer");
    assert_eq!(value["version"], 2);
    assert_eq!(value["message"]["fields"][1]["name"], "price");
    assert_eq!(value["message"]["fields"][1]["offset"], 4);
    assert_eq!(value["signature"], "unsigned");
    assert_eq!(value["digest"].as_str().map(str::len), Some(64));

    // A truncated file and a file that is not an artifact: one line each, exit 1.
    let full = std::fs::read_to_string(ws.path("out/scorer-v2.ptx")).unwrap();
    std::fs::write(ws.path("truncated.ptx"), &full[..full.len() / 3]).unwrap();
    let truncated = ws.run(&["inspect", "truncated.ptx"]).failure();
    assert_eq!(exit_code(&truncated), Some(1));
    assert_eq!(stderr(&truncated).lines().count(), 1, "{}", stderr(&truncated));
    assert!(stderr(&truncated).contains("truncated.ptx: invalid ringkernel artifact"));
    let not_one = ws.run(&["inspect", "rules.rs"]).failure();
    assert!(stderr(&not_one).contains("line 1"), "{}", stderr(&not_one));
}

#[test]
fn keygen_sign_and_verify() {
    let ws = Workspace::new();
    ws.compiled();
    ws.run(&["keygen", "-o", "release.key"]).success();
    ws.run(&["keygen", "-o", "other.key"]).success();
    let again = ws.run(&["keygen", "-o", "release.key"]).failure();
    assert!(stderr(&again).contains("never overwritten"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(ws.path("release.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the secret key is readable by its owner only");
    }

    // Unsigned: verify says so and fails.
    let unsigned =
        ws.run(&["verify", "out/scorer-v1.ptx", "--pubkey", "release.key.pub"]).failure();
    assert!(stderr(&unsigned).contains("unsigned"), "{}", stderr(&unsigned));

    // In place, and to another file.
    ws.run(&["sign", "out/scorer-v1.ptx", "--key", "release.key"]).success();
    ws.run(&["sign", "out/scorer-v2.ptx", "--key", "release.key", "-o", "signed-v2.ptx"]).success();
    assert!(!std::fs::read_to_string(ws.path("out/scorer-v2.ptx")).unwrap().contains("signature:"));
    for file in ["out/scorer-v1.ptx", "signed-v2.ptx"] {
        ws.run(&["verify", file, "--pubkey", "release.key.pub"]).success();
        let other = ws.run(&["verify", file, "--pubkey", "other.key.pub"]).failure();
        assert!(stderr(&other).contains("signature does not match"), "{}", stderr(&other));
    }
    let inspect = stdout(&ws.run(&["inspect", "signed-v2.ptx", "--json"]).success());
    assert!(inspect.contains("\"signature\": \"ed25519\""));
    let json = stdout(
        &ws.run(&["verify", "signed-v2.ptx", "--pubkey", "release.key.pub", "--json"]).success(),
    );
    assert_eq!(serde_json::from_str::<serde_json::Value>(&json).unwrap()["valid"], true);

    // One changed byte of the PTX, of a covered header line, or of the signature.
    let signed = std::fs::read_to_string(ws.path("signed-v2.ptx")).unwrap();
    let tampered = [
        signed.replacen("mul.rn.f32", "add.rn.f32", 1),
        signed.replacen("queue=1024", "queue=2048", 1),
        {
            let at = signed.find("ed25519:").unwrap() + 8;
            let mut bytes = signed.clone().into_bytes();
            bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
            String::from_utf8(bytes).unwrap()
        },
    ];
    for (i, text) in tampered.iter().enumerate() {
        assert_ne!(text, &signed, "tampering {i} changed nothing");
        let name = format!("tampered-{i}.ptx");
        std::fs::write(ws.path(&name), text).unwrap();
        let bad = ws.run(&["verify", &name, "--pubkey", "release.key.pub"]).failure();
        assert_eq!(exit_code(&bad), Some(1), "tampering {i}");
    }

    // Keys that are not keys.
    std::fs::write(ws.path("junk.pub"), "not hex\n").unwrap();
    let junk = ws.run(&["verify", "signed-v2.ptx", "--pubkey", "junk.pub"]).failure();
    assert!(stderr(&junk).contains("junk.pub: not a public key"), "{}", stderr(&junk));
    let no_key = ws.run(&["sign", "signed-v2.ptx", "--key", "absent.key"]).failure();
    assert!(stderr(&no_key).contains("absent.key"), "{}", stderr(&no_key));
}

#[test]
fn diff_says_whether_a_version_can_replace_another_and_what_differs() {
    let ws = Workspace::new();
    ws.compiled();
    ws.run(&["compile", "wider.rs", "-o", "out"]).success();
    let same = ws.run(&["diff", "out/scorer-v1.ptx", "out/scorer-v2.ptx"]).success();
    assert!(stdout(&same).contains("ABI compatible"), "{}", stdout(&same));
    let wider = ws.run(&["diff", "out/scorer-v2.ptx", "out/scorer-v3.ptx"]).failure();
    assert_eq!(exit_code(&wider), Some(1));
    let text = stdout(&wider);
    assert!(text.contains("ABI incompatible"), "{text}");
    assert!(text.contains("message.venue: added at offset 8, 2 bytes"), "{text}");
    assert!(text.contains("message: size/align 8/4 became 12/4"), "{text}");
    let json =
        stdout(&ws.run(&["diff", "out/scorer-v2.ptx", "out/scorer-v3.ptx", "--json"]).failure());
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["compatible"], false);
    assert_eq!(value["new"]["version"], 3);
}

#[test]
fn usage_errors_exit_2_and_help_shows_an_example() {
    let unknown = ringkernel().arg("frobnicate").assert().failure();
    assert_eq!(exit_code(&unknown), Some(2));
    let missing = ringkernel().args(["sign", "x.ptx"]).assert().failure();
    assert_eq!(exit_code(&missing), Some(2));
    for command in
        ["compile", "inspect", "keygen", "sign", "verify", "diff", "watch", "wrap", "run"]
    {
        let help = ringkernel().args([command, "--help"]).assert().success();
        assert!(stdout(&help).contains("Example:"), "{command} --help");
    }
    let _ = Path::new(".");
}

#[test]
fn watch_once_activates_the_highest_valid_version_and_reports_bad_files() {
    let ws = Workspace::new();
    ws.compiled();
    ws.run(&["keygen", "-o", "release.key"]).success();
    std::fs::create_dir(ws.path("live")).unwrap();
    ws.run(&["sign", "out/scorer-v1.ptx", "--key", "release.key", "-o", "live/scorer-v1.ptx"])
        .success();
    ws.run(&["sign", "out/scorer-v2.ptx", "--key", "release.key", "-o", "live/scorer-v2.ptx"])
        .success();
    let clean = ws.run(&["watch", "live", "--pubkey", "release.key.pub", "--once"]).success();
    let text = stdout(&clean);
    assert!(text.contains("activated scorer v2"), "{text}");
    assert!(text.contains("active: scorer v2"), "{text}");

    // An unsigned v3 next to them: reported, v2 stays (exit 1: something was rejected).
    std::fs::copy(ws.path("out/scorer-v2.ptx"), ws.path("unsigned.ptx")).unwrap();
    let text = std::fs::read_to_string(ws.path("unsigned.ptx"))
        .unwrap()
        .replace("// version: 2", "// version: 3");
    std::fs::write(ws.path("live/scorer-v3.ptx"), text).unwrap();
    let dirty = ws.run(&["watch", "live", "--pubkey", "release.key.pub", "--once"]).failure();
    let text = stdout(&dirty);
    assert_eq!(exit_code(&dirty), Some(1));
    assert!(
        text.contains("rejected") && text.contains("scorer-v3.ptx") && text.contains("unsigned"),
        "{text}"
    );
    assert!(text.contains("active: scorer v2"), "{text}");
}

#[test]
fn wrap_adds_the_metadata_of_the_artifact_it_replaces() {
    let ws = Workspace::new();
    ws.compiled();
    // Hand-written PTX with the three entry points of include/ringkernel.cuh's macros.
    let raw = ".version 7.0\n.target sm_80\n.address_size 64\n\
               .func ext_handler(.param .b64 a)\n{\n\tret;\n}\n\
               .visible .entry ext_batch(.param .u64 b)\n{\n\tret;\n}\n\
               .visible .entry ext_persistent(.param .u64 c)\n{\n\tret;\n}\n";
    std::fs::write(ws.path("ext.ptx"), raw).unwrap();
    let done = ws
        .run(&[
            "wrap",
            "ext.ptx",
            "--id",
            "scorer",
            "--version",
            "7",
            "--like",
            "out/scorer-v2.ptx",
        ])
        .success();
    assert!(stdout(&done).contains("scorer v7"), "{}", stdout(&done));
    let json = stdout(&ws.run(&["inspect", "scorer-v7.ptx", "--json"]).success());
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["entries"]["persistent"], "ext_persistent");
    assert_eq!(value["target"], "sm_80");
    let like: serde_json::Value = serde_json::from_str(&stdout(
        &ws.run(&["inspect", "out/scorer-v2.ptx", "--json"]).success(),
    ))
    .unwrap();
    assert_eq!(value["abi"], like["abi"]);
    assert_eq!(value["message"], like["message"]);
    ws.run(&["diff", "out/scorer-v2.ptx", "scorer-v7.ptx"]).success();

    // The layouts from the types instead: the same ABI as the Rust-compiled v2.
    let types = value_types(&ws, "out/scorer-v2.ptx");
    ws.run(&[
        "wrap",
        "ext.ptx",
        "--id",
        "scorer",
        "--version",
        "9",
        "--types",
        &types,
        "-o",
        "typed.ptx",
    ])
    .success();
    ws.run(&["diff", "out/scorer-v2.ptx", "typed.ptx"]).success();
    let bad_types = ws
        .run(&["wrap", "ext.ptx", "--id", "scorer", "--version", "9", "--types", "message=Vec"])
        .failure();
    assert!(
        stderr(&bad_types).contains("--types: `Vec` is not a scalar type"),
        "{}",
        stderr(&bad_types)
    );
    let neither = ws.run(&["wrap", "ext.ptx", "--id", "scorer", "--version", "9"]).failure();
    assert_eq!(exit_code(&neither), Some(2));

    // PTX without the entry points, and an artifact given as the raw PTX: one line each.
    std::fs::write(ws.path("bare.ptx"), ".version 7.0\n.target sm_80\n").unwrap();
    let bare = ws
        .run(&[
            "wrap",
            "bare.ptx",
            "--id",
            "scorer",
            "--version",
            "8",
            "--like",
            "out/scorer-v2.ptx",
        ])
        .failure();
    assert!(stderr(&bare).contains("no `<name>_persistent` entry"), "{}", stderr(&bare));
    let twice = ws
        .run(&[
            "wrap",
            "out/scorer-v1.ptx",
            "--id",
            "scorer",
            "--version",
            "8",
            "--like",
            "out/scorer-v2.ptx",
        ])
        .failure();
    assert!(stderr(&twice).contains("already an artifact"), "{}", stderr(&twice));
}

#[test]
fn run_answers_json_messages_in_the_vm_with_the_state_carried() {
    let ws = Workspace::new();
    ws.compiled();
    let scorer = stdout(
        &ws.run(&[
            "run",
            "out/scorer-v2.ptx",
            "--input",
            r#"{"quantity": 3, "price": 2.5}"#,
            "--input",
            r#"{"quantity": 1, "price": "NaN"}"#,
            "--input",
            r#"{"quantity": 2, "price": "-inf"}"#,
        ])
        .success(),
    );
    assert_eq!(scorer.lines().collect::<Vec<_>>(), ["8.5", "\"NaN\"", "\"-inf\""], "{scorer}");
    // A scalar message as a bare number; i32 wraps as the DSL says.
    let twice = stdout(
        &ws.run(&["run", "out/twice-v1.ptx", "--input", "-21", "--input", "2147483647"]).success(),
    );
    assert_eq!(twice.lines().collect::<Vec<_>>(), ["-42", "-2"], "{twice}");
    // Enums by name, arrays as lists, the state carried from one message to the next, fields
    // in declaration order.
    let book = stdout(
        &ws.run(&[
            "run",
            "out/book-v1.ptx",
            "--input",
            r#"{"side": "Buy", "amounts": [1, 2]}"#,
            "--input",
            r#"{"side": 2, "amounts": [10, 20]}"#,
        ])
        .success(),
    );
    assert_eq!(
        book.lines().collect::<Vec<_>>(),
        [r#"{"bought":3,"sold":0,"last":"Buy"}"#, r#"{"bought":3,"sold":30,"last":"Sell"}"#],
        "{book}"
    );
    // Bad input: one line naming the input and the field, exit 1.
    for (input, expected) in [
        (r#"{"side": "Hold", "amounts": [1, 2]}"#, "expected a variant of `Side` (Buy, Sell)"),
        (r#"{"side": "Buy", "amounts": [1]}"#, "expected a list of 2"),
        (r#"{"side": "Buy", "amounts": [1, 70000]}"#, "expected an integer in 0..=65535"),
        (r#"{"side": "Buy"}"#, "missing field `amounts`"),
        (r#"{"side": "Buy", "amounts": [1, 2], "extra": 1}"#, "has no field `extra`"),
        ("not json", "not JSON"),
    ] {
        let bad = ws.run(&["run", "out/book-v1.ptx", "--input", input]).failure();
        assert_eq!(exit_code(&bad), Some(1));
        assert!(stderr(&bad).contains(expected), "{input}: {}", stderr(&bad));
        assert!(stderr(&bad).contains("input 1"), "{}", stderr(&bad));
    }
    let cuda = ws.run(&["run", "out/twice-v1.ptx", "--backend", "cuda", "--input", "1"]).failure();
    assert!(stderr(&cuda).contains("PTX virtual machine only"), "{}", stderr(&cuda));
}

/// The `types:` line of an artifact file.
fn value_types(ws: &Workspace, artifact: &str) -> String {
    let text = std::fs::read_to_string(ws.path(artifact)).unwrap();
    text.lines().find_map(|l| l.strip_prefix("// types: ")).expect("a types line").to_owned()
}
