//! The font of every picture: DejaVu Sans, embedded (`assets/DejaVuSans.ttf`, Bitstream Vera
//! licence in `assets/DejaVuSans-LICENSE.txt`), so PNG text renders the same on machines
//! without system fonts. Registered with plotters as `sans-serif` before the first drawing.

use std::sync::Once;

/// The font's bytes.
static DEJAVU_SANS: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// The family name pictures use.
pub const FAMILY: &str = "sans-serif";

/// Registers the embedded font (once per process).
pub fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font(FAMILY, plotters::style::FontStyle::Normal, DEJAVU_SANS)
            .unwrap_or_else(|_| unreachable!("the embedded font parses"));
    });
}
