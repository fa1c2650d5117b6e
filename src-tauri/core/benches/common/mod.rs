//! Helpers shared by the benchmark binaries: deterministic random vectors shaped like
//! embeddings, memory readings from /proc, percentiles and environment overrides.

// Each bench binary compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::time::Duration;

use supportbot_core::kb::DIM;

/// Deterministic random numbers (splitmix64), so every run measures the same data.
pub struct Gen(pub u64);

impl Gen {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// A random unit vector, uniform enough on the sphere for our purpose.
    pub fn unit(&mut self) -> Vec<f32> {
        let v: Vec<f32> = (0..DIM)
            .map(|_| (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32 - 0.5)
            .collect();
        normalized(v)
    }

    /// A unit vector near `centre` (cosine to it about 0.6-0.8, like paraphrases of one topic).
    pub fn around(&mut self, centre: &[f32]) -> Vec<f32> {
        let noise = self.unit();
        normalized(centre.iter().zip(noise).map(|(c, n)| c + 0.9 * n).collect())
    }
}

pub fn normalized(v: Vec<f32>) -> Vec<f32> {
    let norm = dot(&v, &v).sqrt();
    v.into_iter().map(|x| x / norm).collect()
}

/// Dot product with eight independent accumulators, so the compiler vectorises it (a plain
/// `zip().sum()` is a serial chain of float adds); the exact searches run billions of these.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Nearest-rank percentile (`p` in 0..=1) of sorted durations, in milliseconds.
pub fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1e3
}

/// The 1-, 5- and 15-minute load averages, to judge how quiet the machine was.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

// ---- Memory -----------------------------------------------------------------------------------

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Highest resident set size since start or the last [`reset_peak_rss`] (VmHWM).
pub fn peak_rss_mb() -> u64 {
    status_kb("VmHWM:") / 1024
}

pub fn current_rss_mb() -> u64 {
    status_kb("VmRSS:") / 1024
}

/// Resets VmHWM to the current RSS (Linux: writing 5 to clear_refs), so each row reports its
/// own peak rather than the highest so far.
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}
