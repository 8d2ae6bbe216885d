#!/usr/bin/env python3
"""scikit-learn's own probes, to check this package's two probe protocols against (src/eval/probe.ts).

Not part of the package (it needs Python with scikit-learn; REPRODUCE.md gives the versions used):

  python3 scripts/sklearn_probe.py features DIR EVAL_JSON
      DIR is what `deno task evaluate --run RUN --save-features DIR` wrote, EVAL_JSON that run's
      eval.json. Fits every representation in DIR with both protocols and prints, per probe, the
      test accuracy scikit-learn gives next to the one in eval.json.

  python3 scripts/sklearn_probe.py synthetic
      The same for the collapsed synthetic set of tests/eval/paper_probe_test.ts (and the paper's
      protocol on it scaled by 30), printed as the JSON that fixtures/sklearn-probe.json holds.

The protocols: "paper" is `LogisticRegression()` as shipped (lbfgs, C = 1, tol = 1e-4,
max_iter = 100) on the raw features; "standardized" is `StandardScaler()` then
`LogisticRegression(tol=1e-5, max_iter=1000)`, run to the optimum.
"""

import json
import math
import sys
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler


def fit(protocol, x_train, y_train, x_test, y_test):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if protocol == "paper":
            model = LogisticRegression().fit(x_train, y_train)
        else:
            scaler = StandardScaler().fit(x_train)
            x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
            model = LogisticRegression(tol=1e-5, max_iter=1000).fit(x_train, y_train)
    return {"accuracy": float(model.score(x_test, y_test)), "iterations": int(model.n_iter_[0])}


def synthetic_set(n, dim, classes, offset):
    """Mirrors collapsedSet() in tests/eval/paper_probe_test.ts: unit vectors 0.03 apart."""

    def noise(i, j):
        v = math.sin((i + offset) * 12.9898 + j * 78.233) * 43758.5453
        return v - math.floor(v) - 0.5

    labels = np.array([int((noise(i, dim) + 0.5) * classes) for i in range(n)], dtype=np.int64)
    x = np.zeros((n, dim))
    for i in range(n):
        for j in range(dim):
            x[i, j] = (1.0 if j == dim - 1 else 0.0) + 0.03 * ((1.0 if j == labels[i] else 0.0) + 1.5 * noise(i, j))
        x[i] /= np.linalg.norm(x[i])
    return x.astype(np.float32), labels


def main():
    if sys.argv[1:2] == ["synthetic"]:
        x_train, y_train = synthetic_set(1000, 20, 10, 0)
        x_test, y_test = synthetic_set(1000, 20, 10, 100_000)
        out = {
            "note": "python3 scripts/sklearn_probe.py synthetic",
            "versions": {"scikit-learn": sklearn.__version__, "numpy": np.__version__},
            "probes": {p: fit(p, x_train, y_train, x_test, y_test) for p in ("standardized", "paper")},
            # Scaled by 30 the same set takes the paper's protocol to max_iter = 100, stopped
            # before the optimum, where the result depends on the solver's path.
            "paperScaled30": fit("paper", x_train * np.float32(30), y_train, x_test * np.float32(30), y_test),
        }
        print(json.dumps(out, indent=2))
        return
    if sys.argv[1:2] != ["features"] or len(sys.argv) != 4:
        sys.exit(__doc__)
    folder, eval_path = sys.argv[2], sys.argv[3]
    manifest = json.load(open(f"{folder}/manifest.json"))
    probes = json.load(open(eval_path))["probes"]

    def read(name):
        entry = manifest[name]
        dtype = np.float32 if entry["dtype"] == "float32" else np.uint8
        return np.fromfile(f"{folder}/{entry['file']}", dtype=dtype).reshape(entry["shape"])

    y_train, y_test = read("labels_train"), read("labels_test")
    print(f"scikit-learn {sklearn.__version__}: probe, protocol, scikit-learn, this package, |difference|")
    worst = 0.0
    for name in sorted(manifest):
        if not name.endswith("_train") or name.startswith(("labels", "probs")):
            continue
        parts = name[: -len("_train")].split("_")
        key = f"{parts[0]}/{parts[1] if len(parts) > 1 else 'integrated'}"
        for protocol in ("standardized", "paper"):
            theirs = fit(protocol, read(name), y_train, read(name.replace("_train", "_test")), y_test)
            ours = probes[key if protocol == "standardized" else f"{key}/paper"]
            diff = abs(theirs["accuracy"] - ours["accuracy"])
            worst = max(worst, diff)
            print(
                f"{key:16} {protocol:12} {theirs['accuracy']:.4f} ({theirs['iterations']} it)"
                f"  {ours['accuracy']:.4f} ({ours['iterations']} it)  {diff:.4f}"
            )
    print(f"largest difference: {worst:.4f}")


main()
