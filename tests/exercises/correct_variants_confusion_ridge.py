"""Right answers to chapters 9 and 10's exercises, written the ways a learner might: a loop,
np.add.at, np.bincount, a product of one-hot matrices, scikit-learn; the MSE through a
residual or through np.linalg.norm, the gradient by einsum or per sample.
``add(right)`` puts them into correct_variants.py's catalogue."""

from __future__ import annotations


def add(right) -> None:
    # --- confusion_matrix
    right(
        "confusion-loop",
        "confusion_matrix",
        """
def confusion_matrix(y_true, y_pred, n_classes):
    counts = np.zeros((n_classes, n_classes), dtype=int)
    for t, p in zip(y_true, y_pred):
        counts[t, p] += 1
    return counts
""",
    )
    right(
        "confusion-add-at",
        "confusion_matrix",
        """
def confusion_matrix(y_true, y_pred, n_classes):
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts
""",
    )
    right(
        "confusion-bincount",
        "confusion_matrix",
        """
def confusion_matrix(y_true, y_pred, n_classes):
    flat = np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes)
""",
    )
    right(
        "confusion-one-hot-product",
        "confusion_matrix",
        """
def confusion_matrix(y_true, y_pred, n_classes):
    eye = np.eye(n_classes, dtype=int)
    return eye[y_true].T @ eye[y_pred]
""",
    )
    right(
        "confusion-compare-each-pair",
        "confusion_matrix",
        """
def confusion_matrix(y_true, y_pred, n_classes):
    classes = np.arange(n_classes)
    is_true = y_true[None, :] == classes[:, None]
    is_pred = y_pred[None, :] == classes[:, None]
    return is_true.astype(int) @ is_pred.T.astype(int)
""",
    )
    right(
        "confusion-nested-loops-int32",
        "confusion_matrix",
        """
def confusion_matrix(y_true, y_pred, n_classes):
    counts = np.zeros((n_classes, n_classes), dtype=np.int32)
    for i in range(n_classes):
        for j in range(n_classes):
            counts[i, j] = np.sum((y_true == i) & (y_pred == j))
    return counts
""",
    )
    right(
        "confusion-scikit-learn",
        "confusion_matrix",
        """
from sklearn import metrics


def confusion_matrix(y_true, y_pred, n_classes):
    return metrics.confusion_matrix(y_true, y_pred, labels=np.arange(n_classes))
""",
    )
    right(
        "confusion-histogram2d-as-int",
        "confusion_matrix",
        """
def confusion_matrix(y_true, y_pred, n_classes):
    edges = np.arange(n_classes + 1) - 0.5
    counts, _, _ = np.histogram2d(y_true, y_pred, bins=[edges, edges])
    return counts.astype(int)
""",
    )
    # --- ridge_loss
    right(
        "ridge-residual",
        "ridge_loss",
        """
def ridge_loss(W, b, X, y, lam):
    r = X @ W + b - y
    return float(np.mean(r**2) + lam * np.sum(W**2))


def ridge_loss_grad(W, b, X, y, lam):
    r = X @ W + b - y
    n = len(X)
    return 2 * X.T @ r / n + 2 * lam * W, 2 * r.sum(axis=0) / n
""",
    )
    right(
        "ridge-norms-and-einsum",
        "ridge_loss",
        """
def ridge_loss(W, b, X, y, lam):
    r = X @ W + b - y
    return np.linalg.norm(r) ** 2 / r.size + lam * np.linalg.norm(W) ** 2


def ridge_loss_grad(W, b, X, y, lam):
    r = (X @ W + b - y)[:, 0]
    n = X.shape[0]
    dW = 2 / n * np.einsum("nd,n->d", X, r)[:, None] + 2 * lam * W
    db = np.array([2 / n * r.sum()])
    return dW, db
""",
    )
    right(
        "ridge-per-sample-loop",
        "ridge_loss",
        """
def ridge_loss(W, b, X, y, lam):
    total = 0.0
    for x_n, y_n in zip(X, y):
        total += (float(x_n @ W[:, 0] + b[0]) - float(y_n[0])) ** 2
    return total / len(X) + lam * float((W * W).sum())


def ridge_loss_grad(W, b, X, y, lam):
    dW = np.zeros_like(W)
    db = np.zeros_like(b)
    for x_n, y_n in zip(X, y):
        r = float(x_n @ W[:, 0] + b[0]) - float(y_n[0])
        dW[:, 0] += 2 * r * x_n / len(X)
        db += 2 * r / len(X)
    return dW + 2 * lam * W, db
""",
    )
    right(
        "ridge-the-half-convention-at-twice-lam",
        "ridge_loss",
        """
def ridge_loss(W, b, X, y, lam):
    half = 2 * lam  # (lam' / 2) ||W||^2 with lam' = 2 lam is lam ||W||^2
    return float(np.mean((X @ W + b - y) ** 2) + half / 2 * np.sum(W**2))


def ridge_loss_grad(W, b, X, y, lam):
    r = X @ W + b - y
    return 2 * X.T @ r / len(X) + (2 * lam) * W, np.atleast_1d(2 * np.mean(r))
""",
    )
    right(
        "ridge-list-of-grads",
        "ridge_loss",
        """
def ridge_loss(W, b, X, y, lam):
    err = (X @ W + b).ravel() - y.ravel()
    return err @ err / len(err) + lam * (W.ravel() @ W.ravel())


def ridge_loss_grad(W, b, X, y, lam):
    err = X @ W + b - y
    return [(2 / len(X)) * (X.T @ err) + 2 * lam * W, (2 / len(X)) * err.sum(0)]
""",
    )
