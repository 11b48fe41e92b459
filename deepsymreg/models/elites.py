"""The elite repository of a Gumbel-max EQL search (Chen 2021, section 4.2), as tensors.

Each of ``runs`` independent searches keeps its ``C`` best distinct structures so far,
sorted by MAE (an empty entry has MAE inf), with whatever the caller carries along
(e.g. the sampled log-weights of every slot). Everything is a batched TensorFlow op on
a leading ``runs`` axis, so that a whole iteration stays inside one compiled loop:

- :func:`merge_repository`: new instances in, distinct keys only, the ``C`` best kept;
- :func:`pick_elites`: ranks drawn by a power law over the filled entries (parents of
  new instances, and elites for the offline rule);
- :func:`resample_mask`: which slots of a parent's copy are drawn anew.
"""

from __future__ import annotations

import tensorflow as tf

__all__ = ["merge_repository", "pick_elites", "resample_mask", "PARENT_LAWS"]

#: How ranks are drawn: ``"power"`` (the paper's text) or ``"rank"`` (the authors' code).
PARENT_LAWS = ("power", "rank")

_INF = float("inf")


def merge_repository(rep_mae, rep_key, rep_items, new_mae, new_key, new_items):
    """Merge new instances into sorted elite repositories, keeping distinct keys only.

    Each run's repository holds ``C`` entries sorted by MAE (empty ones have MAE inf);
    of all entries with one key only the lowest MAE stays (among equal new ones, the
    first), then the ``C`` best of old and new are kept, sorted.

    Args:
        rep_mae, rep_key: ``(runs, C)`` float and int64.
        rep_items: list of tensors ``(runs, C, ...)`` carried along (e.g. log-weights).
        new_mae, new_key: ``(runs, p)`` (non-finite MAE: use inf).
        new_items: list of tensors ``(runs, p, ...)``.

    Returns:
        ``(mae, key, items)`` of the merged repositories.
    """
    C, p = rep_mae.shape[-1], new_mae.shape[-1]
    filled = tf.math.is_finite(rep_mae)
    same = (new_key[:, :, None] == rep_key[:, None, :]) & filled[:, None, :]  # (R, p, C)
    drop_new = tf.reduce_any(same & (rep_mae[:, None, :] <= new_mae[:, :, None]), -1)
    same_new = new_key[:, :, None] == new_key[:, None, :]  # (R, p_i, p_j)
    order = tf.range(p)
    better = (new_mae[:, None, :] < new_mae[:, :, None]) | (
        (new_mae[:, None, :] == new_mae[:, :, None]) & (order[None, None, :] < order[None, :, None]))
    drop_new = drop_new | tf.reduce_any(same_new & better, -1)
    drop_rep = tf.reduce_any(same & (new_mae[:, :, None] < rep_mae[:, None, :]), 1)
    merged = tf.concat([tf.where(drop_rep, _INF, rep_mae), tf.where(drop_new, _INF, new_mae)], -1)
    neg, idx = tf.math.top_k(-merged, C)
    keys = tf.gather(tf.concat([rep_key, new_key], -1), idx, batch_dims=1)
    items = [tf.gather(tf.concat([old, new], 1), idx, batch_dims=1)
             for old, new in zip(rep_items, new_items)]
    return -neg, keys, items


def pick_elites(filled, u, law="power", exponent=1.5):
    """Ranks ``(runs, n)`` into sorted repositories, drawn over their filled entries.

    Args:
        filled: bool ``(runs, C)``, which entries hold an elite (filled first, as the
            sorted repository keeps them).
        u: uniforms ``(runs, n)`` in (0, 1), one per draw (inverse-CDF sampling).
        law: ``"power"``: ``P(rank i) ~ (i + 1) ** -exponent``, the paper's text (the
            best drawn most: 40% of the time with 400 elites and exponent 1.5);
            ``"rank"``: ``~ (n_filled - i) ** exponent``, the authors' public code
            (weights ``position ** exponent`` over the list sorted worst first): far
            flatter.
        exponent: of the law.

    Returns:
        int32 ``(runs, n)`` in ``[0, C)``.
    """
    C = filled.shape[-1]
    ranks = tf.range(1, C + 1, dtype=tf.float32)
    if law == "power":
        weights = tf.where(filled, ranks ** (-exponent), 0.0)
    elif law == "rank":
        n = tf.reduce_sum(tf.cast(filled, tf.float32), -1, keepdims=True)
        weights = tf.where(filled, tf.maximum(n + 1.0 - ranks, 0.0) ** exponent, 0.0)
    else:
        raise ValueError(f"Invalid value for argument `law`: expected one of {PARENT_LAWS}. "
                         f"Received: law={law!r}")
    total = tf.reduce_sum(weights, -1, keepdims=True)
    cdf = tf.math.cumsum(weights, -1) / tf.maximum(total, 1e-30)
    idx = tf.reduce_sum(tf.cast(cdf[:, None, :] < u[..., None], tf.int32), -1)
    return tf.minimum(idx, C - 1)


def resample_mask(u, count, any_filled, elites=True):
    """Which slots of each copied parent are drawn anew: bool ``(runs, p, slots)``.

    Exactly ``count`` slots per instance (those with the smallest uniforms ``u``,
    ``(runs, p, slots)``); every slot while a run's repository is empty
    (``any_filled``, bool ``(runs,)``, False) or with ``elites=False`` (the paper's
    ablation without the elite repository).
    """
    kth = -tf.math.top_k(-u, count).values[..., -1:]
    mask = u <= kth
    if not elites:
        return tf.ones_like(mask)
    return mask | ~any_filled[:, None, None]
