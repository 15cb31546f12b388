package dev.jacobian.samples.training;

import dev.jacobian.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * PNG plots of a run with XChart, drawn headless ({@code java.awt.headless=true}): {@value #LOSS},
 * {@value #ACCURACY} and {@value #GRAD_NORMS} (per-layer weight-gradient norms, log scale).
 */
public final class Plots {
    /** Training loss per epoch. */
    public static final String LOSS = "loss.png";
    /** Training and validation accuracy per epoch. */
    public static final String ACCURACY = "accuracy.png";
    /** Per-layer gradient norms per epoch. */
    public static final String GRAD_NORMS = "grad-norms.png";
    private static final int WIDTH = 800;
    private static final int HEIGHT = 500;

    private Plots() {
    }

    /** Writes the three plots into {@code dir} (nothing when there are no epochs yet). */
    public static List<Path> write(Path dir, List<Reports.EpochRecord> epochs) throws IOException {
        if (epochs.isEmpty()) {
            return List.of();
        }
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
        double[] x = epochs.stream().mapToDouble(Reports.EpochRecord::epoch).toArray();
        List<Path> out = new ArrayList<>();

        XYChart loss = chart("Training loss", "loss");
        add(loss, "train loss", x, epochs.stream().mapToDouble(Reports.EpochRecord::trainLoss).toArray());
        out.add(save(loss, dir.resolve(LOSS)));

        out.add(save(accuracyChart(epochs), dir.resolve(ACCURACY)));

        XYChart grads = chart("Weight-gradient norm per layer (last step of each epoch)", "L2 norm (log)");
        grads.getStyler().setYAxisLogarithmic(true);
        grads.getStyler().setYAxisLogarithmicDecadeOnly(false);
        grads.getStyler().setYAxisDecimalPattern("0.##E0");
        Map<String, double[]> perLayer = new LinkedHashMap<>();
        for (int e = 0; e < epochs.size(); e++) {
            for (Reports.LayerRecord l : epochs.get(e).layers()) {
                double[] series = perLayer.computeIfAbsent(l.layer(), k -> new double[epochs.size()]);
                // a log axis cannot show 0 or NaN: floor at a tiny positive value
                series[e] = Double.isFinite(l.gradNorm()) && l.gradNorm() > 0 ? l.gradNorm() : 1e-12;
            }
        }
        perLayer.forEach((name, y) -> add(grads, name, x, y));
        out.add(save(grads, dir.resolve(GRAD_NORMS)));
        return out;
    }

    /**
     * Training and validation accuracy per epoch; the validation series has the epochs that had a validation set (none
     * with {@code --validation 0}, and then no series rather than a line at 0).
     */
    static XYChart accuracyChart(List<Reports.EpochRecord> epochs) {
        XYChart acc = chart("Accuracy", "accuracy");
        add(acc, "train", epochs.stream().mapToDouble(Reports.EpochRecord::epoch).toArray(),
                epochs.stream().mapToDouble(Reports.EpochRecord::trainAccuracy).toArray());
        List<Reports.EpochRecord> validated = epochs.stream().filter(e -> e.valAccuracy() != null).toList();
        if (!validated.isEmpty()) {
            add(acc, "validation", validated.stream().mapToDouble(Reports.EpochRecord::epoch).toArray(),
                    validated.stream().mapToDouble(Reports.EpochRecord::valAccuracy).toArray());
        }
        return acc;
    }

    private static XYChart chart(String title, String yTitle) {
        XYChart c = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle("epoch").yAxisTitle(yTitle)
                .build();
        c.getStyler().setDecimalPattern("#0.####");
        return c;
    }

    private static void add(XYChart chart, String name, double[] x, double[] y) {
        chart.addSeries(name, x, y).setMarker(SeriesMarkers.CIRCLE);
    }

    private static Path save(XYChart chart, Path file) throws IOException {
        AtomicFiles.write(file, BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG));
        return file;
    }
}
