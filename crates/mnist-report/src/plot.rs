//! PNG plots drawn with plotters: training curves, confusion matrices, image
//! galleries, and general charts for sweeps (lines, heatmaps, and scatter
//! panels for embeddings).
//!
//! Plots are drawn into an in-memory RGB buffer, encoded with `png` and
//! written atomically. Text uses the DejaVu Sans font embedded in this crate
//! (`assets/DejaVuSans.ttf`), so plots render the same on a bare machine with
//! no system fonts.

use std::error::Error;
use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::confusion::{CLASSES, ConfusionMatrix};
use crate::error::{ReportError, Result};
use crate::metrics::{EpochMetrics, heads};

/// The embedded font: DejaVu Sans (Bitstream Vera license, see assets/README.md).
static FONT_BYTES: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
/// The family name every plot asks for; the embedded font is registered under it.
const FONT: &str = "sans-serif";

/// Size of `curves.png`, in pixels.
pub const CURVES_SIZE: (u32, u32) = (900, 400);
/// Size of a confusion matrix plot, in pixels.
pub const CONFUSION_SIZE: (u32, u32) = (560, 540);
/// Size of a line chart, in pixels.
pub const LINE_CHART_SIZE: (u32, u32) = (900, 500);
/// How many times gallery images are enlarged.
pub const GALLERY_SCALE: usize = 3;
/// A gallery draws at most this many images (the title says how many were given).
pub const GALLERY_MAX_ITEMS: usize = 200;

/// Colours of the "tab10" palette: distinct, readable, colour-blind friendly
/// in their first few entries.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];
/// Highlight for wrong predictions in galleries.
const WRONG: RGBColor = RGBColor(214, 39, 40);
/// Light end of the heatmap colour scale (empty cells).
const HEAT_LOW: (f64, f64, f64) = (247.0, 251.0, 255.0);
/// Dark end of the heatmap colour scale (largest values).
const HEAT_HIGH: (f64, f64, f64) = (8.0, 48.0, 107.0);

type DrawResult = std::result::Result<(), Box<dyn Error>>;
type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// One image of a gallery with its label(s). Pixels are grayscale, row-major,
/// 0 = background (black), 255 = ink (white), as in MNIST.
#[derive(Debug, Clone, PartialEq)]
pub struct GalleryItem<'a> {
    /// `height * width` grayscale pixels.
    pub pixels: &'a [u8],
    /// Rows (28 for MNIST, 42 for two stacked digits).
    pub height: usize,
    /// Columns (28).
    pub width: usize,
    /// True label(s), one per head; `None` when unknown (e.g. Kaggle test set).
    pub truth: Option<Vec<u8>>,
    /// Predicted label(s), one per head; empty for a gallery of labelled
    /// images with no model (the caption is then the label).
    pub predicted: Vec<u8>,
}

impl GalleryItem<'_> {
    /// True when the truth is known and every head is right.
    pub fn is_correct(&self) -> bool {
        self.truth.as_ref() == Some(&self.predicted)
    }

    /// True when the truth is known and some head is wrong.
    fn is_wrong(&self) -> bool {
        self.truth.is_some() && !self.predicted.is_empty() && !self.is_correct()
    }
}

/// Training curves: loss (left) and accuracy in percent (right), train and
/// validation, one line per head. Non-finite values (a diverged run) are
/// left out; an empty list draws empty axes.
pub fn curves(path: &Path, epochs: &[EpochMetrics], title: &str) -> Result<()> {
    render(path, CURVES_SIZE, |root| draw_curves(root, epochs, title))
}

/// A confusion matrix as a heatmap: rows are true labels (0 at the top),
/// columns predictions, each cell shows its count. A cell's colour is its
/// share of the true class on a square-root scale, so that small mistakes
/// still show next to a dark diagonal.
pub fn confusion(path: &Path, matrix: &ConfusionMatrix, title: &str) -> Result<()> {
    let digits: Vec<String> = (0..CLASSES).map(|d| d.to_string()).collect();
    let cells: Vec<Vec<Option<(f64, String)>>> = matrix
        .counts()
        .iter()
        .map(|row| {
            let total: u64 = row.iter().sum();
            row.iter()
                .map(|&count| {
                    let share = if total == 0 {
                        0.0
                    } else {
                        count as f64 / total as f64
                    };
                    Some((share.sqrt(), count.to_string()))
                })
                .collect()
        })
        .collect();
    let grid = Grid {
        title,
        x_name: "predicted label",
        x_labels: &digits,
        y_name: "true label",
        y_labels: &digits,
        cells: &cells,
    };
    render(path, CONFUSION_SIZE, |root| draw_grid(root, &grid))
}

/// A general heatmap, e.g. accuracy by batch size (rows) and epoch
/// (columns). `values[row][column]`; row 0 is drawn at the top. Colours run
/// from the smallest value (light) to the largest (dark blue); non-finite
/// values are left blank. Each cell shows its value.
pub fn heatmap(
    path: &Path,
    title: &str,
    x_name: &str,
    x_labels: &[String],
    y_name: &str,
    y_labels: &[String],
    values: &[Vec<f64>],
) -> Result<()> {
    let finite = || values.iter().flatten().copied().filter(|v| v.is_finite());
    let lo = finite().fold(f64::INFINITY, f64::min);
    let hi = finite().fold(f64::NEG_INFINITY, f64::max);
    let decimals = cell_decimals(finite());
    let cells: Vec<Vec<Option<(f64, String)>>> = values
        .iter()
        .map(|row| {
            row.iter()
                .map(|&v| {
                    v.is_finite().then(|| {
                        let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
                        (t, format!("{v:.decimals$}"))
                    })
                })
                .collect()
        })
        .collect();
    let columns = x_labels
        .len()
        .max(cells.iter().map(Vec::len).max().unwrap_or(0));
    let rows = y_labels.len().max(cells.len());
    let size = (
        (160 + 70 * columns).clamp(480, 1600) as u32,
        (140 + 44 * rows).clamp(360, 1200) as u32,
    );
    let grid = Grid {
        title,
        x_name,
        x_labels,
        y_name,
        y_labels,
        cells: &cells,
    };
    render(path, size, |root| draw_grid(root, &grid))
}

/// A general line chart, e.g. validation accuracy against epoch for each
/// batch size. Each series is `(legend label, points)`; non-finite points are
/// left out. Axes fit the data.
pub fn line_chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[(String, Vec<(f64, f64)>)],
) -> Result<()> {
    render(path, LINE_CHART_SIZE, |root| {
        let points = || {
            series
                .iter()
                .flat_map(|(_, p)| p.iter().copied())
                .filter(|(x, y)| x.is_finite() && y.is_finite())
        };
        let x_range = padded_range(points().map(|p| p.0), 0.03);
        let y_range = padded_range(points().map(|p| p.1), 0.06);
        let area = root.titled(title, (FONT, 22))?;
        let mut chart = ChartBuilder::on(&area)
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(64)
            .build_cartesian_2d(x_range, y_range)?;
        style_mesh(&mut chart, x_label, y_label, &|v| format_tick(*v), &|v| {
            format_tick(*v)
        })?;
        for (i, (label, data)) in series.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            let data: Vec<(f64, f64)> = data
                .iter()
                .copied()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .collect();
            let marker = if data.len() <= 60 { 3 } else { 0 };
            chart
                .draw_series(LineSeries::new(data, colour.stroke_width(2)).point_size(marker))?
                .label(label.as_str())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2))
                });
        }
        if !series.is_empty() {
            draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        }
        Ok(())
    })
}

/// One panel of [`scatter_panels`]: its title and its points `(x, y, class)`.
pub type ScatterPanel = (String, Vec<(f64, f64, u8)>);

/// Size of one panel of [`scatter_panels`], in pixels.
pub const SCATTER_PANEL_SIZE: (u32, u32) = (600, 600);

/// Scatter plots side by side, one panel per `(title, points)`, e.g. a t-SNE
/// embedding before and after training. Each point is `(x, y, class)` and
/// takes its class's colour (classes 0–9, the palette of every plot); each
/// panel has a legend of the classes. Non-finite points are left out; axes
/// fit each panel's data.
pub fn scatter_panels(path: &Path, title: &str, panels: &[ScatterPanel]) -> Result<()> {
    let count = panels.len().max(1) as u32;
    let size = (SCATTER_PANEL_SIZE.0 * count, SCATTER_PANEL_SIZE.1 + 40);
    render(path, size, |root| {
        let area = root.titled(title, (FONT, 22))?;
        let parts = area.split_evenly((1, panels.len().max(1)));
        for (part, (panel_title, points)) in parts.iter().zip(panels) {
            let finite: Vec<(f64, f64, u8)> = points
                .iter()
                .copied()
                .filter(|(x, y, _)| x.is_finite() && y.is_finite())
                .collect();
            let x_range = padded_range(finite.iter().map(|p| p.0), 0.03);
            let y_range = padded_range(finite.iter().map(|p| p.1), 0.03);
            let mut chart = ChartBuilder::on(part)
                .caption(panel_title, (FONT, 17))
                .margin(12)
                .x_label_area_size(28)
                .y_label_area_size(44)
                .build_cartesian_2d(x_range, y_range)?;
            style_mesh(&mut chart, "", "", &|v| format_tick(*v), &|v| {
                format_tick(*v)
            })?;
            let classes = finite
                .iter()
                .map(|p| usize::from(p.2))
                .max()
                .map_or(0, |m| m + 1);
            for class in 0..classes {
                let colour = PALETTE[class % PALETTE.len()];
                let mine = finite.iter().filter(|p| usize::from(p.2) == class);
                chart
                    .draw_series(
                        mine.map(|p| Circle::new((p.0, p.1), 2, colour.mix(0.7).filled())),
                    )?
                    .label(class.to_string())
                    .legend(move |(x, y)| Circle::new((x + 10, y), 4, colour.filled()));
            }
            if classes > 0 {
                draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
            }
        }
        Ok(())
    })
}

/// A gallery of images in a grid of `columns`, each enlarged
/// [`GALLERY_SCALE`] times and captioned with its true and predicted labels.
/// Wrong predictions are framed and captioned in red. Fails (without writing)
/// when an item's pixel count is not `height * width`.
pub fn gallery(path: &Path, items: &[GalleryItem], columns: usize, title: &str) -> Result<()> {
    for (i, item) in items.iter().enumerate() {
        if item.height == 0 || item.width == 0 || item.pixels.len() != item.height * item.width {
            return Err(ReportError::InvalidInput(format!(
                "gallery image {i} has {} pixels, expected {}x{} = {}",
                item.pixels.len(),
                item.height,
                item.width,
                item.height * item.width
            )));
        }
    }
    let shown = &items[..items.len().min(GALLERY_MAX_ITEMS)];
    let title = if shown.len() < items.len() {
        format!("{title} (first {} of {})", shown.len(), items.len())
    } else {
        title.to_string()
    };

    let columns = columns.clamp(1, shown.len().max(1));
    let rows = shown.len().div_ceil(columns).max(1);
    let image_w = shown.iter().map(|i| i.width).max().unwrap_or(28) * GALLERY_SCALE;
    let image_h = shown.iter().map(|i| i.height).max().unwrap_or(28) * GALLERY_SCALE;
    let lines = if shown.iter().any(|i| i.truth.is_some()) {
        2
    } else {
        1
    };
    let (pad, title_h, line_h) = (14, 44, 17);
    let cell_w = image_w.max(84) + 14;
    let cell_h = image_h + 8 + lines * line_h + 10;
    let width = (2 * pad + columns * cell_w).max(360);
    let height = title_h + rows * cell_h + pad;

    render(path, (width as u32, height as u32), |root| {
        root.draw(&Text::new(
            title.clone(),
            (width as i32 / 2, 14),
            TextStyle::from((FONT, 20)).pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
        if shown.is_empty() {
            root.draw(&Text::new(
                "(no images)",
                (width as i32 / 2, (title_h + cell_h / 2) as i32),
                TextStyle::from((FONT, 16))
                    .color(&BLACK.mix(0.6))
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            ))?;
        }
        for (i, item) in shown.iter().enumerate() {
            let cell_x = pad + (i % columns) * cell_w;
            let cell_y = title_h + (i / columns) * cell_h;
            draw_gallery_item(
                root,
                item,
                (cell_x as i32, cell_y as i32),
                cell_w as i32,
                line_h,
            )?;
        }
        Ok(())
    })
}

/// Draws one image (centred in its cell) and its caption lines.
fn draw_gallery_item(
    root: &Area,
    item: &GalleryItem,
    (cell_x, cell_y): (i32, i32),
    cell_w: i32,
    line_h: usize,
) -> DrawResult {
    let s = GALLERY_SCALE as i32;
    let (w, h) = (item.width as i32 * s, item.height as i32 * s);
    let x0 = cell_x + (cell_w - w) / 2;
    let y0 = cell_y;
    for (idx, &p) in item.pixels.iter().enumerate() {
        let (r, c) = ((idx / item.width) as i32, (idx % item.width) as i32);
        let colour = RGBColor(p, p, p);
        for dy in 0..s {
            for dx in 0..s {
                root.draw_pixel((x0 + c * s + dx, y0 + r * s + dy), &colour)?;
            }
        }
    }
    let wrong = item.is_wrong();
    if wrong {
        root.draw(&Rectangle::new(
            [(x0 - 3, y0 - 3), (x0 + w + 2, y0 + h + 2)],
            WRONG.stroke_width(3),
        ))?;
    }
    let colour: RGBColor = if wrong { WRONG } else { RGBColor(30, 30, 30) };
    let captions = match (&item.truth, item.predicted.is_empty()) {
        (Some(truth), true) => vec![format!("label {}", label_text(truth))],
        (Some(truth), false) => vec![
            format!("true {}", label_text(truth)),
            format!("pred {}", label_text(&item.predicted)),
        ],
        (None, _) => vec![format!("pred {}", label_text(&item.predicted))],
    };
    for (line, caption) in captions.into_iter().enumerate() {
        root.draw(&Text::new(
            caption,
            (cell_x + cell_w / 2, y0 + h + 6 + (line * line_h) as i32),
            TextStyle::from((FONT, 14))
                .color(&colour)
                .pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
    }
    Ok(())
}

/// Labels of one image: digits run together (`37` for a first digit 3 and a
/// second digit 7), other values comma-separated.
fn label_text(labels: &[u8]) -> String {
    if labels.is_empty() {
        "?".into()
    } else if labels.iter().all(|&l| l < 10) {
        labels.iter().map(|l| l.to_string()).collect()
    } else {
        labels
            .iter()
            .map(|l| l.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn draw_curves(root: &Area, epochs: &[EpochMetrics], title: &str) -> DrawResult {
    let area = root.titled(title, (FONT, 22))?;
    let (left, right) = area.split_horizontally(CURVES_SIZE.0 / 2);
    let heads = heads(epochs);
    let head_name = |h: usize| match (heads, h) {
        (0 | 1, _) => String::new(),
        (_, 0) => " (first)".into(),
        (_, 1) => " (second)".into(),
        (_, h) => format!(" (head {})", h + 1),
    };

    // X axis: epochs, with integer ticks and a little room at both ends.
    let last = epochs.iter().map(|e| e.epoch).max().unwrap_or(1).max(1);
    let first = epochs.iter().map(|e| e.epoch).min().unwrap_or(1).min(last);
    let step = (last - first).div_ceil(10).max(1);
    let ticks: Vec<f64> = (first..=last).step_by(step).map(|e| e as f64).collect();
    let x_range = first as f64 - 0.3..last as f64 + 0.3;

    // Left panel: losses.
    let loss_series = [
        (
            "train",
            PALETTE[0],
            epochs
                .iter()
                .map(|e| (e.epoch, e.train_loss))
                .collect::<Vec<_>>(),
        ),
        (
            "validation",
            PALETTE[1],
            epochs.iter().map(|e| (e.epoch, e.val_loss)).collect(),
        ),
    ];
    let max_loss = loss_series
        .iter()
        .flat_map(|(_, _, p)| p.iter().map(|p| p.1))
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let loss_top = if max_loss > 0.0 { max_loss * 1.08 } else { 1.0 };
    let mut chart = ChartBuilder::on(&left)
        .caption("Loss", (FONT, 17))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(
            FixedTicks::new(x_range.clone(), ticks.clone()),
            0.0..loss_top,
        )?;
    style_mesh(&mut chart, "epoch", "loss", &|v| format!("{v:.0}"), &|v| {
        format_tick(*v)
    })?;
    for (label, colour, points) in loss_series {
        draw_line(&mut chart, label.to_string(), colour, &points)?;
    }
    if !epochs.is_empty() {
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    }

    // Right panel: accuracies in percent, per head.
    let mut acc_series = Vec::new();
    for h in 0..heads {
        let pick = |values: &[f64]| values.get(h).map_or(f64::NAN, |v| 100.0 * v);
        let colours = [(PALETTE[0], PALETTE[1]), (PALETTE[2], PALETTE[3])][h % 2];
        acc_series.push((
            format!("train{}", head_name(h)),
            colours.0,
            epochs
                .iter()
                .map(|e| (e.epoch, pick(&e.train_accuracy)))
                .collect::<Vec<_>>(),
        ));
        acc_series.push((
            format!("validation{}", head_name(h)),
            colours.1,
            epochs
                .iter()
                .map(|e| (e.epoch, pick(&e.val_accuracy)))
                .collect(),
        ));
    }
    let min_acc = acc_series
        .iter()
        .flat_map(|(_, _, p)| p.iter().map(|p| p.1))
        .filter(|v| v.is_finite())
        .fold(f64::INFINITY, f64::min);
    let acc_bottom = if min_acc.is_finite() {
        (min_acc - 0.15 * (100.0 - min_acc) - 0.5)
            .clamp(0.0, 99.0)
            .floor()
    } else {
        0.0
    };
    let mut chart = ChartBuilder::on(&right)
        .caption("Accuracy", (FONT, 17))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(FixedTicks::new(x_range, ticks), acc_bottom..100.0)?;
    style_mesh(
        &mut chart,
        "epoch",
        "accuracy (%)",
        &|v| format!("{v:.0}"),
        &|v| format_tick(*v),
    )?;
    for (label, colour, points) in acc_series {
        draw_line(&mut chart, label, colour, &points)?;
    }
    if !epochs.is_empty() {
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight)?;
    }
    Ok(())
}

/// Draws one curve (finite points only) with markers and a legend entry.
fn draw_line<X, Y>(
    chart: &mut ChartContext<BitMapBackend, Cartesian2d<X, Y>>,
    label: String,
    colour: RGBColor,
    points: &[(usize, f64)],
) -> DrawResult
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let data: Vec<(f64, f64)> = points
        .iter()
        .filter(|p| p.1.is_finite())
        .map(|&(e, v)| (e as f64, v))
        .collect();
    chart
        .draw_series(LineSeries::new(data, colour.stroke_width(2)).point_size(3))?
        .label(label)
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
    Ok(())
}

/// Light grid, readable labels, axis descriptions.
fn style_mesh<X, Y>(
    chart: &mut ChartContext<BitMapBackend, Cartesian2d<X, Y>>,
    x_desc: &str,
    y_desc: &str,
    x_format: &dyn Fn(&f64) -> String,
    y_format: &dyn Fn(&f64) -> String,
) -> DrawResult
where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(x_format)
        .y_label_formatter(y_format)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(TRANSPARENT)
        .draw()?;
    Ok(())
}

fn draw_legend<'a, X, Y>(
    chart: &mut ChartContext<'a, BitMapBackend<'a>, Cartesian2d<X, Y>>,
    position: SeriesLabelPosition,
) -> DrawResult
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FONT, 13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    Ok(())
}

/// A grid of coloured, labelled cells (confusion matrix or heatmap).
struct Grid<'a> {
    title: &'a str,
    x_name: &'a str,
    x_labels: &'a [String],
    y_name: &'a str,
    y_labels: &'a [String],
    /// `cells[row][column]`: colour intensity 0..=1 and text; `None` is blank.
    cells: &'a [Vec<Option<(f64, String)>>],
}

fn draw_grid(root: &Area, grid: &Grid) -> DrawResult {
    let columns = grid
        .x_labels
        .len()
        .max(grid.cells.iter().map(Vec::len).max().unwrap_or(0))
        .max(1);
    let rows = grid.y_labels.len().max(grid.cells.len()).max(1);
    // Cell (row r, column c) covers x in [c, c+1] and y in [rows-1-r, rows-r],
    // so row 0 is at the top; ticks sit at the cell centres.
    let x_ticks: Vec<f64> = (0..columns).map(|c| c as f64 + 0.5).collect();
    let y_ticks: Vec<f64> = (0..rows).map(|r| r as f64 + 0.5).collect();
    let x_label = |v: &f64| {
        grid.x_labels
            .get(v.floor() as usize)
            .cloned()
            .unwrap_or_default()
    };
    let y_label = |v: &f64| {
        let row = rows.checked_sub(1 + v.floor() as usize);
        row.and_then(|r| grid.y_labels.get(r))
            .cloned()
            .unwrap_or_default()
    };
    let longest_y = grid
        .y_labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(1);

    let mut chart = ChartBuilder::on(root)
        .caption(grid.title, (FONT, 20))
        .margin(14)
        .x_label_area_size(48)
        .y_label_area_size((36 + 8 * longest_y) as u32)
        .build_cartesian_2d(
            FixedTicks::new(0.0..columns as f64, x_ticks),
            FixedTicks::new(0.0..rows as f64, y_ticks),
        )?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .disable_y_mesh()
        .x_desc(grid.x_name)
        .y_desc(grid.y_name)
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .draw()?;

    let (plot_w, plot_h) = chart.plotting_area().dim_in_pixel();
    let (cell_w, cell_h) = (plot_w as f64 / columns as f64, plot_h as f64 / rows as f64);
    let longest_text = grid
        .cells
        .iter()
        .flatten()
        .flatten()
        .map(|(_, t)| t.chars().count())
        .max()
        .unwrap_or(1)
        .max(1);
    let font_size = (cell_w / (0.65 * longest_text as f64))
        .min(cell_h * 0.42)
        .clamp(7.0, 16.0);

    for (r, row) in grid.cells.iter().enumerate() {
        let y = (rows - 1 - r) as f64;
        for (c, cell) in row.iter().enumerate() {
            let x = c as f64;
            let Some((intensity, text)) = cell else {
                continue;
            };
            let t = if intensity.is_finite() {
                intensity.clamp(0.0, 1.0)
            } else {
                0.0
            };
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x, y), (x + 1.0, y + 1.0)],
                heat_colour(t).filled(),
            )))?;
            let ink = if t > 0.55 { WHITE } else { BLACK };
            chart.draw_series(std::iter::once(Text::new(
                text.clone(),
                (x + 0.5, y + 0.5),
                TextStyle::from((FONT, font_size))
                    .color(&ink)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            )))?;
        }
    }
    // Thin lines between cells and a frame around the grid.
    let line = BLACK.mix(0.15);
    for c in 0..=columns {
        let x = c as f64;
        chart.draw_series(std::iter::once(PathElement::new(
            [(x, 0.0), (x, rows as f64)],
            line,
        )))?;
    }
    for r in 0..=rows {
        let y = r as f64;
        chart.draw_series(std::iter::once(PathElement::new(
            [(0.0, y), (columns as f64, y)],
            line,
        )))?;
    }
    Ok(())
}

/// A linear f64 axis whose ticks are exactly the given values: integer
/// epochs, or the centres of heatmap cells. (plotters' own `with_key_points`
/// cannot be combined with a labelled mesh in 0.3.7.)
#[derive(Debug, Clone)]
struct FixedTicks {
    range: Range<f64>,
    ticks: Vec<f64>,
}

impl FixedTicks {
    fn new(range: Range<f64>, ticks: Vec<f64>) -> Self {
        Self { range, ticks }
    }
}

impl Ranged for FixedTicks {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = self.range.end - self.range.start;
        let t = if span > 0.0 {
            (value - self.range.start) / span
        } else {
            0.5
        };
        (f64::from(limit.0) + t * f64::from(limit.1 - limit.0)).round() as i32
    }

    /// The ticks for labels and bold grid lines; no light grid lines.
    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

/// The heatmap colour for `t` in 0..=1: near-white to dark blue.
fn heat_colour(t: f64) -> RGBColor {
    let mix = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    RGBColor(
        mix(HEAT_LOW.0, HEAT_HIGH.0),
        mix(HEAT_LOW.1, HEAT_HIGH.1),
        mix(HEAT_LOW.2, HEAT_HIGH.2),
    )
}

/// Decimals for heatmap cells, the same for every cell so they line up:
/// none for whole numbers, 3 for fractions below 1 (accuracies as 0.981),
/// 2 otherwise (percentages as 98.12).
fn cell_decimals(values: impl Iterator<Item = f64>) -> usize {
    let (mut whole, mut max_abs) = (true, 0.0_f64);
    for v in values {
        whole &= v.fract() == 0.0;
        max_abs = max_abs.max(v.abs());
    }
    if whole {
        0
    } else if max_abs < 1.0 {
        3
    } else {
        2
    }
}

/// Tick labels without trailing noise (`0.5`, `12`, `0.001`).
fn format_tick(v: f64) -> String {
    let text = format!("{v:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

/// The range of the finite values, widened by `pad` of its span on both
/// sides; a sensible range when there is one value or none.
fn padded_range(values: impl Iterator<Item = f64>, pad: f64) -> Range<f64> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return 0.0..1.0;
    }
    if hi - lo < 1e-12 {
        let half = if lo.abs() > 1e-12 {
            lo.abs() * 0.1
        } else {
            1.0
        };
        return lo - half..hi + half;
    }
    let span = hi - lo;
    lo - pad * span..hi + pad * span
}

/// Registers the embedded font with plotters once per process.
fn ensure_font() -> std::result::Result<(), String> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err("the embedded font could not be loaded".into())
    }
}

/// Draws on a white `size` canvas with `draw`, encodes it as PNG and writes it
/// atomically to `path`.
fn render(
    path: &Path,
    (width, height): (u32, u32),
    draw: impl FnOnce(&Area) -> DrawResult,
) -> Result<()> {
    let plot_error = |message: String| ReportError::Plot {
        path: path.to_path_buf(),
        message,
    };
    ensure_font().map_err(plot_error)?;
    let mut rgb = vec![255u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        let drawn: DrawResult = (|| {
            root.fill(&WHITE)?;
            draw(&root)?;
            root.present()?;
            Ok(())
        })();
        drawn.map_err(|e| plot_error(e.to_string()))?;
    }
    let png = encode_png(&rgb, width, height).map_err(|e| plot_error(e.to_string()))?;
    mnist_data::files::write_bytes_atomically(path, &png)?;
    Ok(())
}

fn encode_png(
    rgb: &[u8],
    width: u32,
    height: u32,
) -> std::result::Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_survive_degenerate_data() {
        assert_eq!(padded_range([].into_iter(), 0.1), 0.0..1.0);
        assert_eq!(padded_range([f64::NAN].into_iter(), 0.1), 0.0..1.0);
        let r = padded_range([2.0, 2.0].into_iter(), 0.1);
        assert!(r.start < 2.0 && r.end > 2.0);
        assert_eq!(padded_range([0.0, 10.0].into_iter(), 0.1), -1.0..11.0);
    }

    #[test]
    fn labels_and_ticks_read_naturally() {
        assert_eq!(label_text(&[3, 7]), "37");
        assert_eq!(label_text(&[12]), "12");
        assert_eq!(format_tick(0.5000), "0.5");
        assert_eq!(format_tick(20.0), "20");
        assert_eq!(cell_decimals([981.0, 12.0].into_iter()), 0);
        assert_eq!(cell_decimals([0.98123, 0.5].into_iter()), 3);
        assert_eq!(cell_decimals([98.123, 97.0].into_iter()), 2);
    }
}
