package dev.jacobian.samples.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.data.IdxFiles;
import dev.jacobian.data.ImageDataset;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ImageFiles}: PNG/JPEG images as samples like the IDX ones (grey, light on black, fitted and centred). */
class ImageFilesTest {
    @TempDir
    Path tmp;

    /**
     * {@code --invert auto} leaves every shipped Fashion-MNIST test image as it is (their frames are dark) and inverts
     * every one of them shown the other way round.
     */
    @Test
    void autoInversionTellsTheTrainingImagesFromTheirNegatives() throws Exception {
        ImageDataset test = new DataDirectory(DataDirectory.defaultDirectory()).test();
        int light = 0;
        int darkNegatives = 0;
        for (int i = 0; i < test.size(); i++) {
            float[][] image = new float[28][28];
            float[][] negative = new float[28][28];
            for (int y = 0; y < 28; y++) {
                for (int x = 0; x < 28; x++) {
                    image[y][x] = test.pixel(i, y * 28 + x) / ImageDataset.SCALE;
                    negative[y][x] = 1 - image[y][x];
                }
            }
            light += ImageFiles.lightBackground(image) ? 1 : 0;
            darkNegatives += ImageFiles.lightBackground(negative) ? 0 : 1;
        }
        assertEquals(0, light, "test images taken for dark objects on a light background");
        assertEquals(0, darkNegatives, "negated test images taken for light objects on black");
    }

    /** A wide image keeps its aspect ratio: its longer side fills the target, centred on black. */
    @Test
    void imagesAreFittedKeepingTheirAspectRatioAndCentred() {
        float[][] wide = new float[2][8];
        for (float[] row : wide) {
            java.util.Arrays.fill(row, 1f);
        }
        float[] fitted = ImageFiles.sample(wide, 4, 4, ImageFiles.Invert.NO);
        assertArrayEquals(new float[] {0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0}, fitted);
        assertArrayEquals(new float[16], ImageFiles.sample(wide, 4, 4, ImageFiles.Invert.AUTO),
                "a white frame is a light background: inverted to black");
        float[][] ramp = {{0, 0.5f, 1, 1}, {0, 0.5f, 1, 1}, {0, 0.5f, 1, 1}, {0, 0.5f, 1, 1}};
        assertArrayEquals(new float[] {0.25f, 1, 0.25f, 1}, ImageFiles.sample(ramp, 2, 2, ImageFiles.Invert.NO),
                "area averaging: each target pixel the mean of the pixels it covers");
    }

    /**
     * An image of another size than the model's is trimmed to what stands out from its background (the corners) and a
     * grey background is stretched to black, as Fashion-MNIST's pictures were cropped before they were scaled.
     */
    @Test
    void photosAreTrimmedToTheirObjectAndTheirBackgroundMadeBlack() {
        float[][] page = new float[40][60];
        for (int y = 0; y < 40; y++) {
            for (int x = 0; x < 60; x++) {
                boolean frame = y >= 10 && y < 20 && x >= 20 && x < 40 && (y == 10 || y == 19 || x == 20 || x == 39);
                page[y][x] = frame ? 0f : 0.9f; // a black 20x10 frame on a light grey page
            }
        }
        float[] sample = ImageFiles.sample(page, 28, 28, ImageFiles.Invert.AUTO);
        // inverted: the frame is 1, the page 0.1, stretched to 0; the frame's 10x20 fills 14x28, rows 7..20
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) {
                float v = sample[y * 28 + x];
                if (y < 7 || y > 20) {
                    assertEquals(0f, v, "margin " + y + "," + x);
                } else if (y > 8 && y < 19 && x > 1 && x < 26) {
                    assertEquals(0f, v, 1e-6f, "inside the frame " + y + "," + x);
                } else if (y == 7 || y == 20 || x == 0 || x == 27) {
                    assertTrue(v > 0.5f, "the frame " + y + "," + x + ": " + v);
                }
            }
        }
        float[][] blank = new float[30][50];
        assertArrayEquals(new float[28 * 28], ImageFiles.sample(blank, 28, 28, ImageFiles.Invert.NO),
                "nothing stands out: nothing to trim");
    }

    /** Colour and grey-with-alpha images: BT.601 luma, transparency over white. */
    @Test
    void colourIsLumaAndTransparencyIsWhite() throws Exception {
        BufferedImage argb = new BufferedImage(2, 1, BufferedImage.TYPE_INT_ARGB);
        argb.setRGB(0, 0, 0xff_ff_00_00); // opaque red
        argb.setRGB(1, 0, 0x00_00_00_00); // transparent black
        Path png = tmp.resolve("colour.png");
        assertTrue(ImageIO.write(argb, "png", png.toFile()));
        assertTrue(ImageFiles.isImage(png));
        float[][] grey = ImageFiles.grey(png);
        assertEquals(0.299f, grey[0][0], 1e-6f);
        assertEquals(1f, grey[0][1], 1e-6f);
        ImageDataset d = ImageFiles.load(List.of(png, png), 1, 2, ImageFiles.Invert.YES);
        assertEquals(2, d.size());
        assertArrayEquals(new int[] {1, 1, 2}, d.sampleShape());
        assertEquals(179, d.pixel(0, 0), "1 - 0.299 in 8 bits");
        assertEquals(0, d.pixel(1, 1));
    }

    @Test
    void filesThatAreNoImagesAreNamedInOneLine() throws Exception {
        Path idx = tmp.resolve("images-idx3-ubyte");
        Files.write(idx, IdxFiles.images(2, 28, 28));
        assertFalse(ImageFiles.isImage(idx));
        assertFalse(ImageFiles.isImage(tmp.resolve("missing.png")));
        Path broken = tmp.resolve("broken.jpg");
        Files.write(broken, new byte[] {(byte) 0xff, (byte) 0xd8, (byte) 0xff, 0, 1, 2, 3});
        assertTrue(ImageFiles.isImage(broken));
        ImageFormatException e = assertThrows(ImageFormatException.class,
                () -> ImageFiles.load(List.of(broken), 28, 28, ImageFiles.Invert.AUTO));
        assertTrue(e.getMessage().startsWith(broken + ": is not a readable PNG or JPEG image"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }
}
