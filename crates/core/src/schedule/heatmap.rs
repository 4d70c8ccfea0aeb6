//! A PNG heatmap of a circle's quarter: one row per member, one column per month, one coloured
//! cell per (member, month). The font is embedded (DejaVu Sans) because the bot runs in containers
//! that ship no system fonts, and plotters' `ab_glyph` backend never looks for any.
//!
//! Limits: at most [`MAX_ROWS`] members and [`MAX_COLUMNS`] months; beyond that [`render`] returns
//! an error rather than an image too large to read in a chat client. A larger circle's summary is
//! drawn as several images of at most [`MAX_ROWS`] members (`schedule::review::heatmap_pages`).

use std::iter;
use std::sync::OnceLock;

use plotters::backend::{BitMapBackend, RGBPixel};
use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, IntoDrawingArea, IntoFont, RGBColor, Rectangle, WHITE};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, FontStyle, TextStyle, register_font};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Kept,
    Missed,
    Skipped,
    NotDue,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeatmapRow {
    pub name: String,
    pub cells: Vec<Cell>,
}

#[derive(Debug, thiserror::Error)]
pub enum HeatmapError {
    #[error("{0} members is more than the {MAX_ROWS} a heatmap can show")]
    TooManyRows(usize),
    #[error("{0} months is more than the {MAX_COLUMNS} a heatmap can show")]
    TooManyColumns(usize),
    #[error("the embedded heatmap font could not be loaded")]
    Font,
    #[error("drawing the heatmap failed: {0}")]
    Draw(String),
    #[error("encoding the heatmap as PNG failed: {0}")]
    Encode(#[from] png::EncodingError),
}

pub const CELL_W: u32 = 64;
pub const CELL_H: u32 = 28;
/// The member-name column.
pub const LEFT: u32 = 180;
/// The title and the month labels.
pub const TOP: u32 = 68;
/// The legend; two lines, because at one column the four entries do not fit on one.
pub const BOTTOM: u32 = 60;
pub const RIGHT: u32 = 24;
/// A circle is small; 50 rows is already a tall image on a phone. Larger circles get several images.
pub const MAX_ROWS: usize = 50;
/// Two years of months; wider becomes unreadable once a chat client scales it down.
pub const MAX_COLUMNS: usize = 24;

const GAP: u32 = 2;
const PAD: u32 = 12;
const SWATCH: u32 = 14;
/// A private family name, so that nothing else registering a font with plotters can replace ours.
pub(crate) const FAMILY: &str = "career-circle-heatmap-sans";
/// Bounds the ellipsis search on pathological input; no wider text fits the widest image anyway.
const MAX_FIT_CHARS: usize = 200;
const INK: RGBColor = RGBColor(33, 33, 33);
const OUTLINE: RGBColor = RGBColor(150, 150, 150);
const LEGEND: [(Cell, &str); 4] = [
    (Cell::Kept, "Kept"),
    (Cell::Missed, "Missed"),
    (Cell::Skipped, "Skipped"),
    (Cell::NotDue, "Not due"),
];

type Area<'a> = DrawingArea<BitMapBackend<'a, RGBPixel>, Shift>;

/// Exact image size; an empty circle or quarter still gets one blank row and column, so the
/// legend has room and the image is never degenerate.
pub fn size(rows: usize, columns: usize) -> (u32, u32) {
    let n = |v: usize| u32::try_from(v.max(1)).unwrap_or(u32::MAX);
    let width = LEFT + RIGHT + n(columns).saturating_mul(CELL_W);
    (
        width,
        (TOP + BOTTOM).saturating_add(n(rows).saturating_mul(CELL_H)),
    )
}

/// Okabe–Ito hues for kept and missed (told apart under the common colour-vision deficiencies),
/// and greys of clearly different lightness for the two states that carry no judgement.
pub fn color(cell: Cell) -> (u8, u8, u8) {
    match cell {
        Cell::Kept => (0, 158, 115),
        Cell::Missed => (230, 159, 0),
        Cell::Skipped => (176, 176, 176),
        Cell::NotDue => (236, 236, 236),
    }
}

/// Renders the heatmap as PNG bytes (8-bit RGB). Same input, same bytes.
pub fn render(
    title: &str,
    columns: &[String],
    rows: &[HeatmapRow],
) -> Result<Vec<u8>, HeatmapError> {
    if rows.len() > MAX_ROWS {
        return Err(HeatmapError::TooManyRows(rows.len()));
    }
    if columns.len() > MAX_COLUMNS {
        return Err(HeatmapError::TooManyColumns(columns.len()));
    }
    ensure_font()?;
    let (w, h) = size(rows.len(), columns.len());
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let backend = BitMapBackend::<RGBPixel>::with_buffer_and_format(&mut rgb, (w, h))
            .map_err(draw_err)?;
        let area = backend.into_drawing_area();
        area.fill(&WHITE).map_err(draw_err)?;
        draw(&area, title, columns, rows, (w, h))?;
        area.present().map_err(draw_err)?;
    }
    encode(&rgb, w, h)
}

fn draw(
    area: &Area<'_>,
    title: &str,
    columns: &[String],
    rows: &[HeatmapRow],
    (w, h): (u32, u32),
) -> Result<(), HeatmapError> {
    let style = |size: u32, weight, h_pos| {
        TextStyle::from((FAMILY, size, weight).into_font())
            .color(&INK)
            .pos(Pos::new(h_pos, VPos::Center))
    };
    let title_style = style(18, FontStyle::Bold, HPos::Left);
    let label_style = style(12, FontStyle::Normal, HPos::Center);
    let name_style = style(14, FontStyle::Normal, HPos::Left);
    let legend_style = style(13, FontStyle::Normal, HPos::Left);

    let title = fit(area, title, &title_style, w - 2 * PAD)?;
    text(area, &title, &title_style, (PAD, 22))?;
    for (c, label) in (0u32..).zip(columns) {
        let label = fit(area, label, &label_style, CELL_W - 2 * GAP)?;
        let at = (LEFT + c * CELL_W + CELL_W / 2, TOP - 14);
        text(area, &label, &label_style, at)?;
    }
    for (r, row) in (0u32..).zip(rows) {
        let y = TOP + r * CELL_H;
        let name = fit(area, &row.name, &name_style, LEFT - 2 * PAD)?;
        text(area, &name, &name_style, (PAD, y + CELL_H / 2))?;
        let padded = row.cells.iter().copied().chain(iter::repeat(Cell::NotDue));
        for (c, cell) in (0u32..).zip(padded.take(columns.len())) {
            let x = LEFT + c * CELL_W;
            // Half the gap on each side of every cell makes the full gap between neighbours.
            let (x0, y0, x1, y1) = (x + GAP / 2, y + GAP / 2, x + CELL_W, y + CELL_H);
            rect(area, [x0, y0, x1 - GAP / 2, y1 - GAP / 2], rgb(cell))?;
        }
    }

    // Flow the legend left to right and wrap, so it fits even the narrowest (one-column) image.
    let (mut x, mut line_y) = (PAD, h - BOTTOM + 20);
    for (cell, label) in LEGEND {
        let (tw, _) = area
            .estimate_text_size(label, &legend_style)
            .map_err(draw_err)?;
        let entry = SWATCH + 6 + tw;
        if x > PAD && x + entry > w - PAD {
            (x, line_y) = (PAD, line_y + 24);
        }
        let top = line_y - SWATCH / 2;
        // An outline, because the not-due swatch is barely darker than the white page.
        let (x1, y1) = (x + SWATCH, top + SWATCH);
        rect(area, [x - 1, top - 1, x1 + 1, y1 + 1], OUTLINE)?;
        rect(area, [x, top, x1, y1], rgb(cell))?;
        text(area, label, &legend_style, (x + SWATCH + 6, line_y))?;
        x += entry + 16;
    }
    Ok(())
}

fn rgb(cell: Cell) -> RGBColor {
    let (r, g, b) = color(cell);
    RGBColor(r, g, b)
}

// Coordinates stay below size(MAX_ROWS, MAX_COLUMNS), far inside i32, so the casts cannot wrap.

/// `[x0, y0, x1, y1]`, with x1 and y1 exclusive as in the bitmap backend's opaque fill.
fn rect(area: &Area<'_>, [x0, y0, x1, y1]: [u32; 4], fill: RGBColor) -> Result<(), HeatmapError> {
    let corners = [(x0 as i32, y0 as i32), (x1 as i32, y1 as i32)];
    area.draw(&Rectangle::new(corners, fill.filled()))
        .map_err(draw_err)
}

fn text(
    area: &Area<'_>,
    s: &str,
    style: &TextStyle<'_>,
    (x, y): (u32, u32),
) -> Result<(), HeatmapError> {
    area.draw_text(s, style, (x as i32, y as i32))
        .map_err(draw_err)
}

/// Shortens `s` with an ellipsis until it fits `max_w` pixels. Cuts at chars, not grapheme
/// clusters: a split combining mark costs one odd glyph, not worth a segmentation dependency.
/// Control characters become spaces since the font draws them as boxes.
fn fit(
    area: &Area<'_>,
    s: &str,
    style: &TextStyle<'_>,
    max_w: u32,
) -> Result<String, HeatmapError> {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let clean = clean.trim();
    let width = |t: &str| {
        area.estimate_text_size(t, style)
            .map(|(tw, _)| tw)
            .map_err(draw_err)
    };
    if width(clean)? <= max_w {
        return Ok(clean.to_owned());
    }
    let mut kept: Vec<char> = clean.chars().take(MAX_FIT_CHARS).collect();
    loop {
        kept.pop();
        let head: String = kept.iter().collect();
        let candidate = format!("{}…", head.trim_end());
        if kept.is_empty() || width(&candidate)? <= max_w {
            return Ok(candidate);
        }
    }
}

/// plotters keeps fonts in a process-wide table, so registering once is enough and safe to race.
pub(crate) fn ensure_font() -> Result<(), HeatmapError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        register_font(FAMILY, FontStyle::Normal, dejavu::sans::regular()).is_ok()
            && register_font(FAMILY, FontStyle::Bold, dejavu::sans::bold()).is_ok()
    });
    if ok { Ok(()) } else { Err(HeatmapError::Font) }
}

pub(crate) fn encode(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, HeatmapError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(out)
}

/// plotters' errors are generic over the backend; text keeps plotters types out of our public API.
fn draw_err(e: impl std::fmt::Display) -> HeatmapError {
    HeatmapError::Draw(e.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn months(n: usize) -> Vec<String> {
        (1..=n).map(|m| format!("{m:02}/2027")).collect()
    }

    fn row(name: &str, cells: &[Cell]) -> HeatmapRow {
        let (name, cells) = (name.to_owned(), cells.to_vec());
        HeatmapRow { name, cells }
    }

    /// (width, height, pixel at (x, y)), checking the format on the way.
    fn decode(bytes: &[u8]) -> (u32, u32, impl Fn(u32, u32) -> (u8, u8, u8) + use<>) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        let bpp = match info.color_type {
            png::ColorType::Rgb => 3,
            png::ColorType::Rgba => 4,
            other => panic!("unexpected colour type {other:?}"),
        };
        let line = info.line_size;
        let px = move |x: u32, y: u32| {
            let i = y as usize * line + x as usize * bpp;
            (buf[i], buf[i + 1], buf[i + 2])
        };
        (info.width, info.height, px)
    }

    #[test]
    fn each_cell_has_its_colour_and_rows_are_padded_or_truncated() {
        use Cell::*;
        let rows = [
            row("Ada", &[Kept, Missed, Skipped]),
            row("Grace", &[NotDue]),
            row("Linus", &[Missed, Kept, Skipped, Kept, Kept]),
        ];
        let (w, h, px) = decode(&render("Q1 2027 review", &months(3), &rows).unwrap());
        assert_eq!((w, h), size(3, 3));
        let expected = [
            [Kept, Missed, Skipped],
            [NotDue; 3],
            [Missed, Kept, Skipped],
        ];
        for (r, cells) in (0u32..).zip(expected) {
            let y = TOP + r * CELL_H + CELL_H / 2;
            for (c, cell) in (0u32..).zip(cells) {
                let x = LEFT + c * CELL_W + CELL_W / 2;
                assert_eq!(px(x, y), color(cell), "row {r} column {c}");
            }
            // A fourth cell, had it not been truncated, would have spilled into the margin.
            assert_eq!(px(LEFT + 3 * CELL_W + GAP, y), (255, 255, 255));
            assert_eq!(
                px(LEFT, y),
                (255, 255, 255),
                "the gap before a cell is white"
            );
        }
        let all: std::collections::HashSet<_> = [Kept, Missed, Skipped, NotDue].map(color).into();
        assert_eq!(all.len(), 4);
    }

    #[test]
    fn empty_circle_renders_legend_only() {
        let (w, h, px) = decode(&render("Nobody yet", &[], &[]).unwrap());
        assert_eq!((w, h), size(0, 0));
        assert_eq!((w, h), (LEFT + CELL_W + RIGHT, TOP + CELL_H + BOTTOM));
        assert_eq!(px(PAD + SWATCH / 2, h - BOTTOM + 20), color(Cell::Kept));
    }

    #[test]
    fn caps_rows_and_columns() {
        let name = |i| format!("Member {i}");
        let mut rows: Vec<_> = (0..MAX_ROWS)
            .map(|i| row(&name(i), &[Cell::Kept]))
            .collect();
        let (w, h, _) = decode(&render("Big", &months(MAX_COLUMNS), &rows).unwrap());
        assert_eq!((w, h), size(MAX_ROWS, MAX_COLUMNS));
        let wide = render("x", &months(MAX_COLUMNS + 1), &rows);
        assert!(matches!(wide, Err(HeatmapError::TooManyColumns(25))));
        rows.push(row("One more", &[]));
        let tall = render("x", &months(1), &rows);
        assert!(matches!(tall, Err(HeatmapError::TooManyRows(51))));
    }

    #[test]
    fn unicode_and_long_names_do_not_panic() {
        let rows = [
            row("Zoë Åström-Ñúñez", &[Cell::Kept]),
            row("李小龍 🐉🚀 👩‍💻", &[Cell::Missed]),
            row("مريم\u{200f} עברית ᚠᛇᚻ \u{0}\n\t\u{fffd}", &[Cell::Skipped]),
            row(&"Bartholomew-Maximilian ".repeat(200), &[Cell::NotDue]),
            row("", &[]),
            row("e\u{301}\u{301}\u{301}", &[]),
        ];
        let title = "Quarterly review 🎯 ".repeat(50);
        let (w, h, _) = decode(&render(&title, &months(2), &rows).unwrap());
        assert_eq!((w, h), size(6, 2));
    }

    #[test]
    fn rendering_is_deterministic() {
        let rows = [row("Ada", &[Cell::Kept, Cell::Missed]), row("Zoë", &[])];
        let a = render("Q2", &months(2), &rows).unwrap();
        assert_eq!(a, render("Q2", &months(2), &rows).unwrap());
    }
}
