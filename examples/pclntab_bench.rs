//! Timing helper for `scripts/bench-gopclntab.sh`.
//!
//! `pclntab_bench <binary> list` prints entry+1 of every function (hex);
//! `pclntab_bench <binary> run <addrs> <out>` opens the binary through the `Symbolizer`,
//! symbolizes the addresses (pclntab source) and writes
//! `addr<TAB>physical function<TAB>file:line<TAB>depth` lines; timings go to stderr.

use std::io::Write;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use pprofsym::addr::Svma;
use pprofsym::symbolize::{FrameSource, SymbolSource, Symbolizer, SymbolizerOptions};

fn main() -> Result<()> {
    let a: Vec<String> = std::env::args().collect();
    if a.len() < 3 {
        bail!("usage: pclntab_bench <binary> list | run <addrs> <out>");
    }
    let t0 = Instant::now();
    let mut sym = Symbolizer::new(SymbolizerOptions {
        source: SymbolSource::Pclntab,
        ..Default::default()
    });
    let h = sym.open_binary(&a[1])?;
    let elf = sym.elf(h);
    let table = elf
        .go_pclntab()
        .map_err(anyhow::Error::msg)?
        .with_context(|| format!("{}: no Go pclntab", a[1]))?;
    let load = t0.elapsed();
    if a[2] == "list" {
        let mut o = std::io::BufWriter::new(std::io::stdout().lock());
        for f in table.functions() {
            // entry+1, or the entry for 1-byte markers such as go:textfipsend.
            writeln!(o, "{:#x}", if f.end > f.entry + 1 { f.entry + 1 } else { f.entry })?;
        }
        return Ok(());
    }
    if a.len() < 5 {
        bail!("usage: pclntab_bench <binary> run <addrs> <out>");
    }
    let text = std::fs::read_to_string(&a[3]).with_context(|| a[3].clone())?;
    let addrs: Vec<u64> = text
        .lines()
        .map(|l| u64::from_str_radix(l.trim_start_matches("0x"), 16))
        .collect::<Result<_, _>>()
        .with_context(|| format!("{}: bad address", a[3]))?;
    let t1 = Instant::now();
    let mut res = Vec::with_capacity(addrs.len());
    let mut nframes = 0usize;
    for &pc in &addrs {
        let l = elf.frames(Svma(pc)).map_err(anyhow::Error::msg)?;
        if l.source != FrameSource::GoPclntab || l.frames.is_empty() {
            bail!("{pc:#x}: not in the pclntab");
        }
        nframes += l.frames.len();
        res.push(l.frames);
    }
    let sym_time = t1.elapsed();
    let mut o = std::io::BufWriter::new(std::fs::File::create(&a[4]).with_context(|| a[4].clone())?);
    for (pc, fr) in addrs.iter().zip(&res) {
        let (first, last) = (&fr[0], &fr[fr.len() - 1]);
        writeln!(
            o,
            "{pc:#x}\t{}\t{}:{}\t{}",
            last.function,
            first.file,
            first.line,
            fr.len()
        )?;
    }
    eprintln!(
        "pprofsym pclntab: {} functions, open+load {:.1} ms, symbolize {} addrs ({} frames) in {:.1} ms ({:.0} ns/addr)",
        table.function_count(),
        load.as_secs_f64() * 1e3,
        addrs.len(),
        nframes,
        sym_time.as_secs_f64() * 1e3,
        sym_time.as_nanos() as f64 / addrs.len().max(1) as f64
    );
    Ok(())
}
