//! Corrupted and truncated Go pclntabs must give errors (or harmless results), never
//! panics: the decoder directly, and the symbolizer (a one-line error naming the file).
//! Inputs are the committed fixtures with bytes flipped or cut (deterministic seeds).

use object::{Object, ObjectSection};
use pprofsym::addr::Svma;
use pprofsym::symbolize::gopclntab::{GoPclntab, PclntabError};
use pprofsym::symbolize::{SymbolSource, Symbolizer, SymbolizerOptions};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/gopclntab/");

fn pclntab_range(data: &[u8]) -> (usize, usize) {
    let f = object::File::parse(data).unwrap();
    let s = f
        .sections()
        .find(|s| matches!(s.name(), Ok(".gopclntab") | Ok(".data.rel.ro.gopclntab")))
        .unwrap();
    let (off, len) = s.file_range().unwrap();
    (off as usize, len as usize)
}

fn put_u64(d: &mut [u8], at: usize, v: u64) {
    d[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn exercise(data: &[u8], pcs: &[u64]) {
    if let Ok(t) = GoPclntab::from_elf(data) {
        let _ = t.functions();
        for &pc in pcs {
            let _ = t.frames(pc);
        }
    }
}

#[test]
fn specific_corruptions() {
    let orig = std::fs::read(format!("{DIR}go127-stripped")).unwrap();
    let (off, len) = pclntab_range(&orig);

    let mut d = orig.clone();
    d[off..off + 4].copy_from_slice(&0xffff_fffau32.to_le_bytes());
    let e = GoPclntab::from_elf(&d).unwrap_err();
    assert_eq!(e, PclntabError::UnsupportedVersion { magic: 0xffff_fffa });
    assert!(e.to_string().contains("0xfffffffa"), "{e}");

    let mut d = orig.clone();
    d[off..off + 4].copy_from_slice(&0xffff_fffbu32.to_le_bytes());
    assert!(GoPclntab::from_elf(&d).unwrap_err().to_string().contains("Go 1.2-1.15"));

    let mut d = orig.clone();
    d[off..off + 4].copy_from_slice(&0x1234_5678u32.to_le_bytes());
    assert!(GoPclntab::from_elf(&d).is_err());

    let mut d = orig.clone();
    put_u64(&mut d, off + 8, u64::MAX / 4); // nfunc
    assert!(matches!(GoPclntab::from_elf(&d), Err(PclntabError::Malformed(_))));

    for field in 3..8 {
        let mut d = orig.clone();
        put_u64(&mut d, off + 8 + field * 8, len as u64 + 1); // table offsets
        assert!(
            matches!(GoPclntab::from_elf(&d), Err(PclntabError::Malformed(_))),
            "field {field}"
        );
    }

    // Bogus pctab offset: decoding still fails cleanly.
    let mut d = orig.clone();
    put_u64(&mut d, off + 8 + 6 * 8, len as u64 - 3);
    exercise(&d, &[0x401000, 0x450000, 0x480000]);

    // Cut inside the table (the section then extends past the file end).
    for cut in [off + 4, off + 40, off + len / 2, off + len - 1] {
        assert!(GoPclntab::from_elf(&orig[..cut]).is_err(), "cut at {cut:#x}");
    }
    assert!(GoPclntab::from_elf(&[]).is_err());
    assert!(GoPclntab::from_elf(b"\x7fELF").is_err());
}

#[test]
fn many_random_corruptions() {
    for name in ["go127-stripped", "go122-pie-stripped", "go119-pie-stripped"] {
        let orig = std::fs::read(format!("{DIR}{name}")).unwrap();
        let (off, len) = pclntab_range(&orig);
        let t = GoPclntab::from_elf(&orig).unwrap();
        let fs = t.functions();
        let pcs: Vec<u64> = fs
            .iter()
            .step_by(fs.len() / 40)
            .flat_map(|f| [f.entry, (f.entry + f.end) / 2])
            .collect();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for i in 0..300 {
            let mut d = orig.clone();
            // Header-heavy: half the flips land in the first 256 bytes.
            for _ in 0..(1 + i % 8) {
                let span = if rnd() % 2 == 0 { 256.min(len) } else { len };
                let at = off + (rnd() as usize) % span;
                d[at] ^= (rnd() as u8) | 1;
            }
            exercise(&d, &pcs);
        }
        for _ in 0..50 {
            let cut = off + (rnd() as usize) % len;
            exercise(&orig[..cut], &pcs);
        }
    }
}

/// Through the symbolizer: a Go binary whose table is damaged gives a one-line error that
/// names the file, for every source that reads the table; DWARF-only reading is unaffected.
#[test]
fn symbolizer_reports_malformed_table() {
    let orig = std::fs::read(format!("{DIR}go127-stripped")).unwrap();
    let (off, _) = pclntab_range(&orig);
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, u64, &str); 2] = [
        ("bad-offsets", 0, "malformed Go pclntab"),
        (
            "go116",
            0xffff_fffa,
            "unsupported Go pclntab magic 0xfffffffa (Go 1.16-1.17)",
        ),
    ];
    for (name, magic, msg) in cases {
        let mut d = orig.clone();
        if magic == 0 {
            put_u64(&mut d, off + 8 + 7 * 8, u64::MAX); // pclnOffset far out of range
        } else {
            d[off..off + 4].copy_from_slice(&(magic as u32).to_le_bytes());
        }
        let path = dir.path().join(name);
        std::fs::write(&path, &d).unwrap();
        for source in [SymbolSource::Auto, SymbolSource::Pclntab, SymbolSource::Dwarf] {
            let mut s = Symbolizer::new(SymbolizerOptions {
                source,
                ..Default::default()
            });
            let h = s.open_binary(&path).unwrap();
            let r = s.elf(h).frames(Svma(0x485560));
            // An unsupported (pre-1.18) layout is no error in Auto mode: the symbol tables
            // answer, as for any binary without a table.
            let want_err = match source {
                SymbolSource::Auto => magic == 0,
                SymbolSource::Pclntab => true,
                _ => false,
            };
            match r {
                Err(e) if want_err => {
                    let e = e.to_string();
                    assert!(e.contains(msg) && e.contains(name) && !e.contains('\n'), "{e}");
                }
                Ok(l) if !want_err => assert!(l.frames.is_empty(), "{name} {source:?}: {l:?}"),
                other => panic!("{name} {source:?}: {other:?}"),
            }
        }
    }
}
