use super::*;

fn p(s: &str) -> PathBuf {
    PathBuf::from(s)
}

fn write(sim: &SimStorage, path: &str, data: &[u8], sync: bool) {
    let f = sim.open(&p(path), OpenMode::Create).unwrap();
    let len = f.len().unwrap();
    f.write_all_at(data, len).unwrap();
    if sync {
        f.sync_data().unwrap();
    }
}

#[test]
fn fsynced_data_and_fsynced_entries_survive_every_crash() {
    for seed in 0..50 {
        let sim = SimStorage::new(seed);
        sim.create_dir_all(&p("/d")).unwrap();
        sim.sync_dir(&p("/")).unwrap();
        write(&sim, "/d/a", b"durable", true);
        sim.sync_dir(&p("/d")).unwrap();
        write(&sim, "/d/a", b"-maybe", false);
        write(&sim, "/d/b", b"unsynced entry", true);
        sim.crash(seed);
        let a = sim.read(&p("/d/a")).unwrap();
        assert!(a.starts_with(b"durable"), "seed {seed}: {a:?}");
        assert!(b"durable-maybe".starts_with(&a), "only a prefix of the unsynced write: {a:?}");
        // b's data was fsynced but its directory entry was not: it may be gone, never garbled.
        if let Ok(b) = sim.read(&p("/d/b")) {
            assert_eq!(b, b"unsynced entry");
        }
    }
}

#[test]
fn some_crash_loses_an_unsynced_entry_and_some_keeps_it() {
    let (mut kept, mut lost) = (0, 0);
    for seed in 0..40 {
        let sim = SimStorage::new(seed);
        sim.create_dir(&p("/x")).unwrap();
        sim.crash(seed);
        if sim.stat(&p("/x")).unwrap().is_some() { kept += 1 } else { lost += 1 }
    }
    assert!(kept > 0 && lost > 0, "kept {kept}, lost {lost}");
}

#[test]
fn a_rename_is_atomic_and_moves_what_is_under_it() {
    for seed in 0..40 {
        let sim = SimStorage::new(seed);
        sim.create_dir_all(&p("/t/.new/0")).unwrap();
        write(&sim, "/t/.new/0/f", b"x", true);
        sim.sync_dir(&p("/t/.new/0")).unwrap();
        sim.sync_dir(&p("/t/.new")).unwrap();
        sim.sync_dir(&p("/t")).unwrap();
        sim.sync_dir(&p("/")).unwrap();
        sim.rename(&p("/t/.new"), &p("/t/final")).unwrap();
        assert_eq!(sim.read(&p("/t/final/0/f")).unwrap(), b"x");
        sim.crash(seed);
        let old = sim.stat(&p("/t/.new/0/f")).unwrap().is_some();
        let new = sim.stat(&p("/t/final/0/f")).unwrap().is_some();
        assert!(old != new, "seed {seed}: exactly one name survives (old {old}, new {new})");
    }
}

#[test]
fn handles_from_before_a_crash_fail_and_locks_are_released() {
    let sim = SimStorage::new(1);
    let f = sim.open(&p("/lock"), OpenMode::Create).unwrap();
    assert!(f.try_lock(true).unwrap());
    let g = sim.open(&p("/lock"), OpenMode::Create).unwrap();
    assert!(!g.try_lock(false).unwrap(), "held exclusively by another handle");
    sim.sync_dir(&p("/")).unwrap();
    sim.crash(1);
    assert!(f.write_all_at(b"x", 0).is_err());
    let h = sim.open(&p("/lock"), OpenMode::Create).unwrap();
    assert!(h.try_lock(true).unwrap());
}

#[test]
fn faults_fire_once_where_they_are_aimed() {
    let sim = SimStorage::new(7);
    sim.inject_on(Fault::FsyncFails { nth: 1 }, "b");
    let a = sim.open(&p("/a"), OpenMode::Create).unwrap();
    let b = sim.open(&p("/b"), OpenMode::Create).unwrap();
    a.sync_data().unwrap();
    b.sync_data().unwrap();
    let e = b.sync_data().unwrap_err();
    assert!(e.to_string().contains("Input/output error"), "{e}");
    b.sync_data().unwrap();

    sim.inject(Fault::NoSpaceAfter { bytes: 10 });
    a.write_all_at(b"12345", 0).unwrap();
    let e = a.write_all_at(b"6789012345", 5).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(28));
    assert_eq!(a.len().unwrap(), 10, "what fit was written");
    a.write_all_at(b"more", 10).unwrap();

    sim.inject(Fault::DiskFull { bytes: 20 });
    let e = b.write_all_at(&[1; 10], 0).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(28));
    assert_eq!(b.len().unwrap(), 6, "14 bytes held, 6 fit");
    sim.clear_faults();
    b.write_all_at(&[1; 10], 0).unwrap();

    sim.inject(Fault::TornWrite { nth: 0 });
    assert!(a.write_all_at(&[9; 100], 14).is_err());
    assert!(a.len().unwrap() < 114);
    assert_eq!(sim.take_fired().len(), 4);
}

#[test]
fn a_lost_rename_is_lost_unless_its_directory_was_fsynced() {
    for seed in 0..20 {
        let sim = SimStorage::new(seed);
        write(&sim, "/a", b"1", true);
        sim.sync_dir(&p("/")).unwrap();
        sim.inject(Fault::LoseRename { nth: 0 });
        sim.rename(&p("/a"), &p("/b")).unwrap();
        sim.crash(seed);
        assert!(sim.stat(&p("/a")).unwrap().is_some() && sim.stat(&p("/b")).unwrap().is_none());
        sim.inject(Fault::LoseRename { nth: 0 });
        sim.rename(&p("/a"), &p("/b")).unwrap();
        sim.sync_dir(&p("/")).unwrap();
        sim.crash(seed);
        assert!(sim.stat(&p("/b")).unwrap().is_some(), "an fsynced rename survives");
    }
}
