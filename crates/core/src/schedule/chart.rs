//! A PNG of a member's scorecard: one panel per metric, one column per quarter, the values joined in a line and the
//! target as a dashed rule. Same embedded font as the heatmap, for the same reason (containers ship no fonts).
//!
//! Limits: at most [`MAX_METRICS`] panels and [`MAX_QUARTERS`] columns; [`render`] refuses more rather than draw
//! an image too large to read in a chat client.

use plotters::backend::{BitMapBackend, RGBPixel};
use plotters::coord::Shift;
use plotters::element::{Circle, PathElement, Rectangle};
use plotters::prelude::{DrawingArea, IntoDrawingArea, IntoFont, RGBColor, WHITE};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, FontStyle, TextStyle};

use crate::schedule::heatmap::{FAMILY, HeatmapError, encode, ensure_font};

/// One metric's line.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// "posts (count, leading)"
    pub title: String,
    /// One value per quarter column; None where nothing was recorded.
    pub values: Vec<Option<f64>>,
    pub target: Option<f64>,
    /// The y range the metric's type implies (a 1-5 scale, yes/no as 0-1); None: from the values.
    pub range: Option<(f64, f64)>,
}

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("{0} metrics is more than the {MAX_METRICS} a scorecard chart can show")]
    TooManyMetrics(usize),
    #[error("{0} quarters is more than the {MAX_QUARTERS} a scorecard chart can show")]
    TooManyQuarters(usize),
    #[error("drawing the scorecard failed: {0}")]
    Draw(String),
    #[error(transparent)]
    Image(#[from] HeatmapError),
}

pub const COLUMN_W: u32 = 80;
pub const PANEL_H: u32 = 132;
/// The y-axis labels.
pub const LEFT: u32 = 64;
pub const RIGHT: u32 = 24;
/// The chart's title.
pub const TOP: u32 = 44;
pub const BOTTOM: u32 = 12;
pub const MAX_METRICS: usize = 12;
/// Four years of quarters.
pub const MAX_QUARTERS: usize = 16;

/// Within a panel: its title line, the plot, the quarter labels.
const PANEL_TITLE: u32 = 26;
const PLOT_H: u32 = 74;
const PAD: u32 = 12;
const INK: RGBColor = RGBColor(33, 33, 33);
const FRAME: RGBColor = RGBColor(200, 200, 200);
/// Okabe–Ito blue for the line, orange for the target, bluish green for a value that meets it.
pub const LINE: (u8, u8, u8) = (0, 114, 178);
pub const TARGET: (u8, u8, u8) = (230, 159, 0);
pub const MET: (u8, u8, u8) = (0, 158, 115);

type Area<'a> = DrawingArea<BitMapBackend<'a, RGBPixel>, Shift>;

/// Exact image size for `metrics` panels over `quarters` columns (at least one of each, never degenerate).
pub fn size(metrics: usize, quarters: usize) -> (u32, u32) {
    let n = |v: usize| u32::try_from(v.max(1)).unwrap_or(u32::MAX);
    (
        LEFT + RIGHT + n(quarters).saturating_mul(COLUMN_W),
        (TOP + BOTTOM).saturating_add(n(metrics).saturating_mul(PANEL_H)),
    )
}

/// Where a value lands: (x, y) of quarter `column` in panel `panel`, for a panel whose y range is `lo..=hi`.
pub fn point(panel: usize, column: usize, value: f64, (lo, hi): (f64, f64)) -> (u32, u32) {
    let panel = u32::try_from(panel).unwrap_or(0);
    let column = u32::try_from(column).unwrap_or(0);
    let top = TOP + panel * PANEL_H + PANEL_TITLE;
    let span = if hi > lo { hi - lo } else { 1.0 };
    let frac = ((value - lo) / span).clamp(0.0, 1.0);
    let inner = PLOT_H - 2 * PAD;
    let y = top + PAD + inner - (frac * f64::from(inner)).round() as u32;
    (LEFT + column * COLUMN_W + COLUMN_W / 2, y)
}

/// The y range a panel draws: the metric's own, else from its values and target, always including zero for
/// counts and numbers that start there, and never empty.
pub fn range_of(s: &Series) -> (f64, f64) {
    if let Some(r) = s.range {
        return r;
    }
    let all = s.values.iter().flatten().copied().chain(s.target);
    let (mut lo, mut hi) = all.fold((0.0_f64, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if hi <= lo {
        hi = lo + 1.0;
    }
    if !lo.is_finite() || !hi.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    (lo, hi)
}

/// Renders the chart as PNG bytes (8-bit RGB). Same input, same bytes.
pub fn render(title: &str, quarters: &[String], series: &[Series]) -> Result<Vec<u8>, ChartError> {
    if series.len() > MAX_METRICS {
        return Err(ChartError::TooManyMetrics(series.len()));
    }
    if quarters.len() > MAX_QUARTERS {
        return Err(ChartError::TooManyQuarters(quarters.len()));
    }
    ensure_font()?;
    let (w, h) = size(series.len(), quarters.len());
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let backend = BitMapBackend::<RGBPixel>::with_buffer_and_format(&mut rgb, (w, h))
            .map_err(draw_err)?;
        let area = backend.into_drawing_area();
        area.fill(&WHITE).map_err(draw_err)?;
        draw(&area, title, quarters, series, w)?;
        area.present().map_err(draw_err)?;
    }
    Ok(encode(&rgb, w, h)?)
}

fn draw(
    area: &Area<'_>,
    title: &str,
    quarters: &[String],
    series: &[Series],
    w: u32,
) -> Result<(), ChartError> {
    let style = |size: u32, weight, h_pos| {
        TextStyle::from((FAMILY, size, weight).into_font())
            .color(&INK)
            .pos(Pos::new(h_pos, VPos::Center))
    };
    let title_style = style(18, FontStyle::Bold, HPos::Left);
    let panel_style = style(14, FontStyle::Bold, HPos::Left);
    let axis_style = style(11, FontStyle::Normal, HPos::Right);
    let label_style = style(11, FontStyle::Normal, HPos::Center);
    let title = fit(area, title, &title_style, w - 2 * PAD)?;
    text(area, &title, &title_style, (PAD, 22))?;
    let columns = quarters.len().max(1);
    for (p, s) in series.iter().enumerate() {
        let top = TOP + u32::try_from(p).unwrap_or(0) * PANEL_H;
        let name = fit(area, &s.title, &panel_style, w - 2 * PAD)?;
        text(area, &name, &panel_style, (PAD, top + PANEL_TITLE / 2))?;
        let (plot_top, plot_bottom) = (top + PANEL_TITLE, top + PANEL_TITLE + PLOT_H);
        let right = LEFT + u32::try_from(columns).unwrap_or(1) * COLUMN_W;
        frame(area, [LEFT, plot_top, right, plot_bottom])?;
        let range = range_of(s);
        let (_, y_hi) = point(p, 0, range.1, range);
        let (_, y_lo) = point(p, 0, range.0, range);
        text(area, &number(range.1), &axis_style, (LEFT - 6, y_hi))?;
        text(area, &number(range.0), &axis_style, (LEFT - 6, y_lo))?;
        if let Some(t) = s.target {
            let (_, y) = point(p, 0, t, range);
            // A dashed rule: 8 pixels drawn, 5 left out.
            let mut x = LEFT + 2;
            while x < right - 2 {
                let end = (x + 8).min(right - 2);
                line(area, (x, y), (end, y), TARGET, 2)?;
                x += 13;
            }
        }
        let points: Vec<(usize, f64)> = s
            .values
            .iter()
            .take(columns)
            .enumerate()
            .filter_map(|(c, v)| v.map(|v| (c, v)))
            .collect();
        for pair in points.windows(2) {
            let (a, b) = (
                point(p, pair[0].0, pair[0].1, range),
                point(p, pair[1].0, pair[1].1, range),
            );
            line(area, a, b, LINE, 2)?;
        }
        for (c, v) in &points {
            let at = point(p, *c, *v, range);
            let met = s
                .target
                .is_some_and(|t| crate::domain::scorecard::meets(*v, t));
            dot(area, at, if met { MET } else { LINE })?;
        }
        for (c, q) in quarters.iter().enumerate() {
            let x = LEFT + u32::try_from(c).unwrap_or(0) * COLUMN_W + COLUMN_W / 2;
            let label = fit(area, q, &label_style, COLUMN_W - 4)?;
            text(area, &label, &label_style, (x, plot_bottom + 14))?;
        }
    }
    Ok(())
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

// Coordinates stay below size(MAX_METRICS, MAX_QUARTERS), far inside i32, so the casts cannot wrap.

fn frame(area: &Area<'_>, [x0, y0, x1, y1]: [u32; 4]) -> Result<(), ChartError> {
    area.draw(&Rectangle::new(
        [(x0 as i32, y0 as i32), (x1 as i32, y1 as i32)],
        FRAME.stroke_width(1),
    ))
    .map_err(draw_err)
}

fn line(
    area: &Area<'_>,
    (x0, y0): (u32, u32),
    (x1, y1): (u32, u32),
    (r, g, b): (u8, u8, u8),
    width: u32,
) -> Result<(), ChartError> {
    area.draw(&PathElement::new(
        vec![(x0 as i32, y0 as i32), (x1 as i32, y1 as i32)],
        RGBColor(r, g, b).stroke_width(width),
    ))
    .map_err(draw_err)
}

fn dot(area: &Area<'_>, (x, y): (u32, u32), (r, g, b): (u8, u8, u8)) -> Result<(), ChartError> {
    area.draw(&Circle::new(
        (x as i32, y as i32),
        5,
        RGBColor(r, g, b).filled(),
    ))
    .map_err(draw_err)
}

fn text(
    area: &Area<'_>,
    s: &str,
    style: &TextStyle<'_>,
    (x, y): (u32, u32),
) -> Result<(), ChartError> {
    area.draw_text(s, style, (x as i32, y as i32))
        .map_err(draw_err)
}

/// Shortens `s` with an ellipsis until it fits `max_w` pixels; control characters become spaces.
fn fit(area: &Area<'_>, s: &str, style: &TextStyle<'_>, max_w: u32) -> Result<String, ChartError> {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
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
    let mut kept: Vec<char> = clean.chars().collect();
    loop {
        kept.pop();
        let head: String = kept.iter().collect();
        let candidate = format!("{}…", head.trim_end());
        if kept.is_empty() || width(&candidate)? <= max_w {
            return Ok(candidate);
        }
    }
}

fn draw_err(e: impl std::fmt::Display) -> ChartError {
    ChartError::Draw(e.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pixels(bytes: &[u8]) -> (u32, u32, Vec<u8>, usize) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        (info.width, info.height, buf, info.line_size)
    }

    #[test]
    fn values_land_where_they_belong_and_targets_colour_them() {
        let quarters: Vec<String> = ["Q1 2027", "Q2 2027", "Q3 2027"].map(str::to_owned).into();
        let series = vec![
            Series {
                title: "posts (count, leading) · target 3".into(),
                values: vec![Some(1.0), None, Some(4.0)],
                target: Some(3.0),
                range: None,
            },
            Series {
                title: "confidence (scale)".into(),
                values: vec![Some(2.0), Some(3.0), Some(5.0)],
                target: None,
                range: Some((1.0, 5.0)),
            },
        ];
        let png = render("Ada's scorecard", &quarters, &series).unwrap();
        let (w, h, buf, line) = pixels(&png);
        assert_eq!((w, h), size(2, 3));
        let px = |(x, y): (u32, u32)| {
            let i = y as usize * line + x as usize * 3;
            (buf[i], buf[i + 1], buf[i + 2])
        };
        let r0 = range_of(&series[0]);
        assert_eq!(r0, (0.0, 4.0));
        assert_eq!(px(point(0, 0, 1.0, r0)), LINE, "below target");
        assert_eq!(px(point(0, 2, 4.0, r0)), MET, "meets the target");
        assert_eq!(px(point(1, 2, 5.0, (1.0, 5.0))), LINE);
        assert_eq!(png, render("Ada's scorecard", &quarters, &series).unwrap());
        assert!(matches!(
            render("x", &vec![String::new(); MAX_QUARTERS + 1], &series),
            Err(ChartError::TooManyQuarters(17))
        ));
        let empty = render("Nobody", &[], &[]).unwrap();
        assert_eq!((pixels(&empty).0, pixels(&empty).1), size(0, 0));
    }
}
