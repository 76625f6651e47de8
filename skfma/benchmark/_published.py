"""Published test accuracies of the benchmark's methods, with where they come from.

All are on the FMA's ``small`` subset (8 genres) and its official split, as the
five reports give them (``docs/reproducing.rst`` lists all their figures). A
run on other data (another subset, a download of a few hundred clips) is not
comparable to them: they are shown beside its figures, not as its targets.
"""

__all__ = ["PUBLISHED"]

#: Built-in pipeline -> (test accuracy, source).
PUBLISHED = {
    "fma-all-dnn": (0.495, "report 001, MLP (512, 256) on the 518 features, fma_small"),
    "kostrzewa-cnn": (0.3975, "report 001, Kostrzewa CNN on 128 x 128 log-mels, fma_small"),
    "unet-encoder": (0.4271, "report 002, UNet encoder on tiles, fma_small"),
}
