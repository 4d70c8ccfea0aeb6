//! A PNG heatmap of a circle's quarter: one row per member, one column per month, one coloured
//! cell per (member, month). The font is embedded (DejaVu Sans) because the bot runs in containers
//! that ship no system fonts, and plotters' `ab_glyph` backend never looks for any.
//!
//! Limits: at most [`MAX_ROWS`] members and [`MAX_COLUMNS`] months; beyond that [`render`] returns
//! an error rather than an image too large to read in a chat client.

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
/// A circle is small; 50 rows is already a tall image on a phone.
pub const MAX_ROWS: usize = 50;
/// Two years of months; wider becomes unreadable once a chat client scales it down.
pub const MAX_COLUMNS: usize = 24;

const GAP: u32 = 2;
const PAD: u32 = 12;
const SWATCH: u32 = 14;
/// A private family name, so that nothing else registering a font with plotters can replace ours.
const FAMILY: &str = "career-circle-heatmap-sans";
/// Bounds the ellipsis search on pathological names; no more than this fits in LEFT anyway.
const MAX_NAME_CHARS: usize = 64;
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
    let cols = u32::try_from(columns.clamp(1, MAX_COLUMNS)).unwrap_or(1);
    let rows = u32::try_from(rows.clamp(1, MAX_ROWS)).unwrap_or(1);
    (LEFT + cols * CELL_W + RIGHT, TOP + rows * CELL_H + BOTTOM)
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
    let left_mid = Pos::new(HPos::Left, VPos::Center);
    let title_style = TextStyle::from((FAMILY, 18, FontStyle::Bold).into_font())
        .color(&INK)
        .pos(left_mid);
    let label_style = TextStyle::from((FAMILY, 12).into_font())
        .color(&INK)
        .pos(Pos::new(HPos::Center, VPos::Center));
    let name_style = TextStyle::from((FAMILY, 14).into_font())
        .color(&INK)
        .pos(left_mid);
    let legend_style = TextStyle::from((FAMILY, 13).into_font())
        .color(&INK)
        .pos(left_mid);

    let title = fit(area, title, &title_style, w - 2 * PAD)?;
    text(area, &title, &title_style, PAD, 22)?;
    for (c, label) in (0u32..).zip(columns) {
        let label = fit(area, label, &label_style, CELL_W - 2 * GAP)?;
        text(
            area,
            &label,
            &label_style,
            LEFT + c * CELL_W + CELL_W / 2,
            TOP - 14,
        )?;
    }
    let ncols = columns.len();
    for (r, row) in (0u32..).zip(rows) {
        let y = TOP + r * CELL_H;
        let name = fit(area, &row.name, &name_style, LEFT - 2 * PAD)?;
        text(area, &name, &name_style, PAD, y + CELL_H / 2)?;
        let padded = row
            .cells
            .iter()
            .copied()
            .chain(std::iter::repeat(Cell::NotDue));
        for (c, cell) in (0u32..).zip(padded.take(ncols)) {
            let x = LEFT + c * CELL_W;
            // Half the gap on each side of every cell makes the full gap between neighbours.
            let (x0, y0) = (x + GAP / 2, y + GAP / 2);
            rect(
                area,
                (x0, y0),
                (x + CELL_W - GAP / 2, y + CELL_H - GAP / 2),
                rgb(cell),
            )?;
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
        rect(
            area,
            (x - 1, top - 1),
            (x + SWATCH + 1, top + SWATCH + 1),
            OUTLINE,
        )?;
        rect(area, (x, top), (x + SWATCH, top + SWATCH), rgb(cell))?;
        text(area, label, &legend_style, x + SWATCH + 6, line_y)?;
        x += entry + 16;
    }
    Ok(())
}

fn rgb(cell: Cell) -> RGBColor {
    let (r, g, b) = color(cell);
    RGBColor(r, g, b)
}

/// `to` is exclusive, matching the bitmap backend's opaque fill.
fn rect(
    area: &Area<'_>,
    from: (u32, u32),
    to: (u32, u32),
    fill: RGBColor,
) -> Result<(), HeatmapError> {
    let corner = |(x, y): (u32, u32)| {
        (
            i32::try_from(x).unwrap_or(i32::MAX),
            i32::try_from(y).unwrap_or(i32::MAX),
        )
    };
    area.draw(&Rectangle::new([corner(from), corner(to)], fill.filled()))
        .map_err(draw_err)
}

fn text(
    area: &Area<'_>,
    s: &str,
    style: &TextStyle<'_>,
    x: u32,
    y: u32,
) -> Result<(), HeatmapError> {
    let at = (
        i32::try_from(x).unwrap_or(i32::MAX),
        i32::try_from(y).unwrap_or(i32::MAX),
    );
    area.draw_text(s, style, at).map_err(draw_err)
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
    let mut kept: Vec<char> = clean.chars().take(MAX_NAME_CHARS).collect();
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
fn ensure_font() -> Result<(), HeatmapError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        register_font(FAMILY, FontStyle::Normal, dejavu::sans::regular()).is_ok()
            && register_font(FAMILY, FontStyle::Bold, dejavu::sans::bold()).is_ok()
    });
    if ok { Ok(()) } else { Err(HeatmapError::Font) }
}

fn encode(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, HeatmapError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(out)
}

/// plotters' error types borrow nothing but are not all `Send + Sync`; a string keeps ours so.
fn draw_err(e: impl std::fmt::Display) -> HeatmapError {
    HeatmapError::Draw(e.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn months(n: usize) -> Vec<String> {
        ["Jan 2027", "Feb 2027", "Mar 2027"]
            .iter()
            .cycle()
            .take(n)
            .map(|s| s.to_string())
            .collect()
    }

    fn row(name: &str, cells: &[Cell]) -> HeatmapRow {
        HeatmapRow {
            name: name.to_owned(),
            cells: cells.to_vec(),
        }
    }

    /// Decodes and returns (width, height, pixel lookup).
    fn decode(bytes: &[u8]) -> (u32, u32, impl Fn(u32, u32) -> (u8, u8, u8)) {
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
        let (w, line) = (info.width, info.line_size);
        let px = move |x: u32, y: u32| {
            let i = y as usize * line + x as usize * bpp;
            (buf[i], buf[i + 1], buf[i + 2])
        };
        (w, info.height, px)
    }

    fn centre(r: u32, c: u32) -> (u32, u32) {
        (
            LEFT + c * CELL_W + CELL_W / 2,
            TOP + r * CELL_H + CELL_H / 2,
        )
    }

    #[test]
    fn cells_have_their_colours_and_rows_are_padded_or_truncated() {
        use Cell::*;
        let rows = [
            row("Ada", &[Kept, Missed, Skipped]),
            row("Grace", &[NotDue]),
            row("Linus", &[Missed, Kept, Skipped, Kept, Kept]),
        ];
        let png = render("Q1 2027 review", &months(3), &rows).unwrap();
        let (w, h, px) = decode(&png);
        assert_eq!((w, h), size(3, 3));
        let expected = [
            [Kept, Missed, Skipped],
            [NotDue, NotDue, NotDue],
            [Missed, Kept, Skipped],
        ];
        for (r, cells) in (0u32..).zip(expected) {
            for (c, cell) in (0u32..).zip(cells) {
                let (x, y) = centre(r, c);
                assert_eq!(px(x, y), color(cell), "row {r} column {c}");
            }
            // The truncated fourth cell would have spilled into the right margin.
            assert_eq!(px(LEFT + 3 * CELL_W + GAP, centre(r, 0).1), (255, 255, 255));
        }
        let left = px(LEFT + GAP / 2 - 1, centre(0, 0).1);
        assert_eq!(left, (255, 255, 255), "the gap between cells is white");
    }

    #[test]
    fn colours_are_distinct() {
        let all = [Cell::Kept, Cell::Missed, Cell::Skipped, Cell::NotDue].map(color);
        for i in 0..all.len() {
            for j in i + 1..all.len() {
                assert_ne!(all[i], all[j]);
            }
        }
    }

    #[test]
    fn empty_circle_renders_legend_only() {
        let png = render("Nobody yet", &[], &[]).unwrap();
        let (w, h, px) = decode(&png);
        assert_eq!((w, h), size(0, 0));
        assert_eq!((w, h), (LEFT + CELL_W + RIGHT, TOP + CELL_H + BOTTOM));
        // The first legend swatch is the kept colour.
        assert_eq!(px(PAD + SWATCH / 2, h - BOTTOM + 20), color(Cell::Kept));
    }

    #[test]
    fn caps_rows_and_columns() {
        let rows: Vec<_> = (0..MAX_ROWS)
            .map(|i| row(&format!("Member {i}"), &[Cell::Kept]))
            .collect();
        let png = render("Big circle", &months(MAX_COLUMNS), &rows).unwrap();
        let (w, h, _) = decode(&png);
        assert_eq!((w, h), size(MAX_ROWS, MAX_COLUMNS));
        let mut too_many = rows.clone();
        too_many.push(row("One more", &[]));
        assert!(matches!(
            render("x", &months(1), &too_many),
            Err(HeatmapError::TooManyRows(51))
        ));
        let wide = render("x", &months(MAX_COLUMNS + 1), &rows);
        assert!(matches!(wide, Err(HeatmapError::TooManyColumns(25))));
    }

    #[test]
    fn unicode_and_long_names_do_not_panic() {
        let rows = [
            row("Zoë Åström-Ñúñez", &[Cell::Kept]),
            row("李小龍 🐉🚀 👩‍💻", &[Cell::Missed]),
            row("مريم\u{200f} עברית ᚠᛇᚻ \u{0}\n\t\u{fffd}", &[Cell::Skipped]),
            row(&"Bartholomew-Maximilian ".repeat(200), &[Cell::NotDue]),
            row("", &[]),
            row("e\u{301}\u{301}\u{301}\u{301}", &[]),
        ];
        let title = "Quarterly review 🎯 ".repeat(50);
        let png = render(&title, &months(2), &rows).unwrap();
        assert_eq!(decode(&png).0, size(6, 2).0);
    }

    #[test]
    fn rendering_is_deterministic() {
        let rows = [
            row("Ada", &[Cell::Kept, Cell::Missed]),
            row("Grace", &[Cell::Skipped]),
        ];
        let a = render("Q2", &months(2), &rows).unwrap();
        let b = render("Q2", &months(2), &rows).unwrap();
        assert_eq!(a, b);
    }
}
