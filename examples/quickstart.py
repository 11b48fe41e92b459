"""Quick start: discover a law from data with an EQL network and plain ``model.fit``.

The story: generate noisy-free data from a known law on [-1, 1]^2, train a few EQL
restarts together in one graph with the paper's phased schedule, keep the restart that
extrapolates best to [-2, 2]^2, print its equation and plot truth vs. prediction inside
and outside the training domain. About a minute on 2 CPU cores; a progress bar on a
terminal (``--quiet``: none).

    python examples/quickstart.py [--law "x*y + sin(2*pi*x)"] [--out quickstart.png] [--quiet]
"""

# %% imports
import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if __name__ == "__main__":  # TensorFlow's native log off the terminal (reports.run_script)
    os.environ.setdefault("DEEPSYMREG_HIDE_NATIVE_LOG", "1")

import numpy as np  # noqa: E402

import deepsymreg as dsr  # noqa: E402  (before TensorFlow: it hides TensorFlow's import log)
from deepsymreg import reports, symbolic  # noqa: E402

DEFAULT_LAW = "x**2 + sin(2*pi*y)"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--law", default=DEFAULT_LAW, help="true law in x and y")
    parser.add_argument("--restarts", type=int, default=8)
    parser.add_argument("--out", default="quickstart.png", help="where to save the plot")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()

    # %% data from a known law: 256 points on the training domain, more on a wider one
    truth, symbols = symbolic.parse(args.law, "x,y")
    law = symbolic.to_numpy_function(truth, symbols)
    rng = np.random.default_rng(args.seed)
    x_train = rng.uniform(-1, 1, (256, 2)).astype("float32")
    y_train = law(x_train)[:, None].astype("float32")
    x_test = rng.uniform(-2, 2, (1024, 2)).astype("float32")
    y_test = law(x_test)[:, None].astype("float32")

    # %% model: 2 hidden EQL layers with the paper's primitives, smoothed L0.5 penalty,
    # `restarts` independent initializations trained together in one graph
    model = dsr.EQL(
        n_outputs=1,
        depth=2,
        primitives=dsr.primitives.DEFAULT,
        regularizer="l05",
        trials=args.restarts,
        steps_per_call=500,
        seed=args.seed,
    )
    model.compile(optimizer=dsr.optimizers.RMSprop(1e-2), jit_compile=True)

    # %% the paper's schedule: warm-up, L0.5 phase, freeze |w| < 0.01, fine-tune
    schedule = dsr.PhasedSchedule(dsr.recipes.paper_schedule())
    progress = reports.progress_bar(args.restarts * schedule.total_steps,
                                    reports.on_terminal(args.quiet))
    data = dsr.data.repeated((x_train, y_train))
    model.fit(
        data,
        epochs=1,
        steps_per_epoch=schedule.batches_needed(model),
        shuffle=False,
        callbacks=[dsr.NaNRecovery(seed=args.seed), schedule,
                   reports.StepProgress(progress, args.restarts)],
        verbose=0,
    )

    # %% choose the restart that extrapolates best and read it as an equation
    errors = model.trial_errors(x_test, y_test)
    best = int(np.argmin(errors))
    found = model.to_sympy(["x", "y"], trial=best)
    ok, nrmse = symbolic.judge(found, truth, symbols, (-2, 2))
    print(f"true law:      {truth}")
    print(f"found:         {symbolic.rounded(found, 4)}")
    print(f"LaTeX:         {model.latex(['x', 'y'], trial=best)}")
    print(f"restart {best} of {args.restarts}; test MSE on [-2,2]^2: {errors[best]:.3g}; "
          f"normalized RMSE {nrmse:.3g} -> {'recovered' if ok else 'not recovered'}")

    # %% plot a slice y = 0.25 (varying x) and a slice x = 0.25 (varying y)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = np.linspace(-2, 2, 401).astype("float32")
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, col, name in ((axes[0], 0, "x"), (axes[1], 1, "y")):
        pts = np.full((grid.size, 2), 0.25, "float32")
        pts[:, col] = grid
        pred = model.predict(pts, verbose=0)[best, :, 0]
        ax.axvspan(-1, 1, color="0.92", label="training domain")
        ax.plot(grid, law(pts), "k-", lw=2, label="truth")
        ax.plot(grid, pred, "C1--", lw=2, label="EQL")
        ax.set_xlabel(name)
        ax.set_title("slice: other variable = 0.25")
    axes[0].legend(loc="best")
    fig.suptitle(f"truth {truth}   found {symbolic.rounded(found, 3)}", fontsize=9)
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"saved {args.out}   ({time.perf_counter() - t0:.0f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(reports.run_script(main))
