//! Compiles one source file and writes its artifacts: `cargo run -p ringkernel-codegen
//! --example smoke -- FILE [TARGET] [OUT_DIR]`.

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: smoke FILE [TARGET] [OUT_DIR]");
        std::process::exit(2);
    };
    let target = args.next().unwrap_or_else(|| "sm_70".into());
    let out = args.next().unwrap_or_else(|| ".".into());
    let src = match std::fs::read_to_string(&path) {
        Ok(src) => src,
        Err(err) => {
            eprintln!("error: cannot read {path}: {err}");
            std::process::exit(1);
        }
    };
    let opts = ringkernel_codegen::Options { compute_cap: target, file_name: Some(path) };
    match ringkernel_codegen::compile_source(&src, &opts) {
        Ok(artifacts) => {
            for a in artifacts {
                let file = format!("{out}/{}", a.file_name());
                std::fs::write(&file, a.to_text()).expect("write artifact");
                println!("wrote {file}");
            }
        }
        Err(diags) => {
            eprintln!("{diags}");
            std::process::exit(1);
        }
    }
}
