package dev.jacobian.samples.data;

import java.util.ArrayList;
import java.util.List;

/** Human names of the ten classes. */
public final class ClassNames {
    /** Fashion-MNIST's classes, by label (Xiao, Rasul &amp; Vollgraf 2017). */
    public static final List<String> FASHION_MNIST = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    private ClassNames() {
    }

    /**
     * Names for {@code classes} labels: Fashion-MNIST's when {@code fashion} is true and there are ten,
     * otherwise the digits {@code "0"}, {@code "1"}, … (MNIST and other MNIST-format sets).
     */
    public static List<String> forData(boolean fashion, int classes) {
        if (fashion && classes == FASHION_MNIST.size()) {
            return FASHION_MNIST;
        }
        List<String> names = new ArrayList<>();
        for (int i = 0; i < classes; i++) {
            names.add(Integer.toString(i));
        }
        return List.copyOf(names);
    }
}
