//! `--plot FILE.svg`: the report as a picture the README can show — publish and consume
//! throughput bars per target (medians over rounds) and each target's latency CDF (all rounds
//! merged), through plotters' SVG backend.

use super::latency;
use super::report::Report;
use anyhow::{Result, anyhow};
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

const SIZE: (u32, u32) = (1500, 480);

fn colour(i: usize) -> RGBColor {
    const C: [RGBColor; 6] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
    ];
    C[i % C.len()]
}

/// One bar chart: a bar per target of `values` (records/s; `None` where a target has none).
fn bars(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    title: &str,
    names: &[String],
    values: &[Option<f64>],
) -> Result<()> {
    // A segmented integer range has a segment per value, both ends included.
    let last = names.len().max(1) as u32 - 1;
    let top = values.iter().flatten().fold(0f64, |a, &b| a.max(b)).max(1.0) * 1.15 / 1000.0;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d((0u32..last).into_segmented(), 0f64..top)
        .map_err(|e| anyhow!("plot: {e}"))?;
    let label = |v: &SegmentValue<u32>| match v {
        SegmentValue::CenterOf(i) => names.get(*i as usize).cloned().unwrap_or_default(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_label_formatter(&label)
        .y_label_formatter(&|v| format!("{v:.0}"))
        .y_desc("thousand records/s")
        .draw()
        .map_err(|e| anyhow!("plot: {e}"))?;
    let rects = values.iter().enumerate().filter_map(|(i, v)| {
        let v = (*v)? / 1000.0;
        let mut r = Rectangle::new(
            [(SegmentValue::Exact(i as u32), 0.0), (SegmentValue::Exact(i as u32 + 1), v)],
            colour(i).filled(),
        );
        r.set_margin(0, 0, 20, 20);
        Some(r)
    });
    chart.draw_series(rects).map_err(|e| anyhow!("plot: {e}"))?;
    let style = TextStyle::from(("sans-serif", 14).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom));
    let labels = values.iter().enumerate().filter_map(|(i, v)| {
        let v = (*v)?;
        Some(Text::new(
            format!("{:.0}k", v / 1000.0),
            (SegmentValue::CenterOf(i as u32), v / 1000.0 + top * 0.01),
            style.clone(),
        ))
    });
    chart.draw_series(labels).map_err(|e| anyhow!("plot: {e}"))?;
    Ok(())
}

/// Writes the SVG.
pub fn write(path: &Path, rep: &Report) -> Result<()> {
    let names: Vec<String> = rep.targets.iter().map(|t| t.name.clone()).collect();
    let publish: Vec<Option<f64>> = rep.summary.iter().map(|s| s.publish_records_per_s).collect();
    let consume: Vec<Option<f64>> = rep.summary.iter().map(|s| s.consume_records_per_s).collect();
    let cdfs: Vec<(usize, Vec<(f64, f64)>)> = names
        .iter()
        .enumerate()
        .filter_map(|(i, n)| Some((i, latency::cdf(&rep.histogram(n)?, 120))))
        .filter(|(_, c)| !c.is_empty())
        .collect();
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("plot: {e}"))?;
    let panels = root.split_evenly((1, 3));
    let w = &rep.workload;
    bars(&panels[0], &format!("publish ({} B records, acks awaited)", w.size), &names, &publish)?;
    bars(&panels[1], "consume (catch-up, as a group, committing)", &names, &consume)?;

    let lo = cdfs.iter().flat_map(|(_, c)| c.iter().map(|p| p.0)).fold(f64::MAX, f64::min).max(0.001);
    let hi = cdfs.iter().flat_map(|(_, c)| c.iter().map(|p| p.0)).fold(0f64, f64::max).max(lo * 10.0);
    let mut chart = ChartBuilder::on(&panels[2])
        .caption(format!("latency at {} records/s (CDF)", w.rate), ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d((lo * 0.8..hi * 1.25).log_scale(), 0f64..100f64)
        .map_err(|e| anyhow!("plot: {e}"))?;
    chart.configure_mesh().x_desc("ms (log scale)").y_desc("% of records").draw().map_err(|e| anyhow!("plot: {e}"))?;
    for (i, cdf) in &cdfs {
        let c = colour(*i);
        chart
            .draw_series(LineSeries::new(cdf.iter().map(|(ms, q)| (*ms, q * 100.0)), c.stroke_width(2)))
            .map_err(|e| anyhow!("plot: {e}"))?
            .label(names[*i].clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
    }
    if !cdfs.is_empty() {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| anyhow!("plot: {e}"))?;
    }
    root.present().map_err(|e| anyhow!("writing {}: {e}", path.display()))?;
    Ok(())
}
