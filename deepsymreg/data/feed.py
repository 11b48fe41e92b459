"""``tf.data`` pipelines for ``model.fit`` that return as soon as training ends.

With autotuning on (``tf.data``'s default) an iterator starts a background thread that
wakes after 10 ms, 30 ms, 70 ms, ... (its period doubling, up to 60 s), and the
iterator's destructor, which ``model.fit`` runs on return, waits for that thread's next
wake-up. A fit therefore lasted until the next of 0.01, 0.03, ..., 40.95, 81.91,
141.91, 201.91 s after it started, whatever its work. Measured here: stage 2 of three
Gumbel-max EQL runs took 141.91 s each; 500-iteration fits took 0.61-0.88 s, 1.27 s or
2.55 s at random, both cores idle while the main thread waited in
``RootDataset::Iterator::~Iterator`` (``py-spy``), and 0.64-0.72 s every time with
autotuning off (docs/performance.md, "The end of a fit"). The pipelines of this package
have no ``AUTOTUNE`` parameters, so turning autotuning off changes no element they
produce, only that wait.
"""

from __future__ import annotations

import tensorflow as tf

__all__ = ["without_autotune", "repeated"]


def without_autotune(dataset):
    """``dataset`` with ``tf.data`` autotuning off (the same elements, no tuning thread)."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def repeated(*structure):
    """The whole data set as one batch, repeated forever, without autotuning.

    ``repeated((x, y))`` or ``repeated(((x, t), y, w))``: ``structure`` is what one step
    of ``model.fit`` receives (see ``tf.data.Dataset.from_tensors``).
    """
    element = structure[0] if len(structure) == 1 else structure
    return without_autotune(tf.data.Dataset.from_tensors(element).repeat())
