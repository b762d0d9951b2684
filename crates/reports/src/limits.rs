//! Size limits for attacker-controlled input.
//!
//! Every parser takes a [`Limits`]; defaults are generous for real reports and small enough that
//! a zip bomb, a gigabyte MIME part or an endless line cannot exhaust memory.

/// Bounds applied while parsing one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest raw input accepted, in bytes (one message or one file).
    pub max_input: usize,
    /// Largest total output of decompression (gzip, zip) for one input, in bytes.
    pub max_decompressed: usize,
    /// Deepest MIME nesting followed (multipart inside message/rfc822 inside multipart ...).
    pub max_depth: usize,
    /// Longest line accepted in line-oriented formats (CSV rows, log excerpts, YAML).
    pub max_line: usize,
    /// Most records produced from one input (CSV rows, DMARC records).
    pub max_records: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_input: 64 * 1024 * 1024,
            max_decompressed: 256 * 1024 * 1024,
            max_depth: 16,
            max_line: 1024 * 1024,
            max_records: 10_000_000,
        }
    }
}
