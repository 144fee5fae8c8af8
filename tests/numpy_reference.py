"""An independent reference for derivations: a problem file worked in plain numpy.

Written from the formulas of issue 13 and PyTorch's documentation (``torch.optim.SGD``,
``RMSprop``, ``Adam``, ``AdamW``, ``torch.nn.utils.clip_grad_norm_``/``clip_grad_value_``,
``torch.nn.Dropout``, ``torch.nn.BatchNorm1d``), never by calling tracegrad: the problem is
read with :mod:`tomllib` and every quantity is computed with arrays, forward, backward by
the chain rule written out, and the update rule of each optimizer.

:func:`work` returns ``{quantity name: numpy array}`` under the names of tracegrad's answers
files (``z1``, ``dL/dW2``, ``m_W1``, ``W1_new@2``) and in the shapes they use: a per-sample
quantity is ``(samples, units)`` for an iteration of several samples and ``(units,)`` for
one; weights are ``(inputs, units)`` in the ``in_out`` layout and ``(units, inputs)`` in
``out_in``. It computes a superset of what a derivation prints (``step_W1`` also where the
update is not of the form W − step, every structural quantity).
"""

from __future__ import annotations

import math
import tomllib

import numpy as np

CLIP_EPS = 1e-6  # torch.nn.utils.clip_grad_norm_: clip_coef = max_norm / (total_norm + 1e-6)

OPTIMIZER_DEFAULTS = {  # PyTorch's defaults, except μ = 0.9 for "momentum"; lr 0.1 when a file leaves it out
    "sgd": {"momentum": 0.0, "nesterov": False, "weight_decay": 0.0, "decoupled": False},
    "momentum": {"momentum": 0.9, "nesterov": False, "weight_decay": 0.0, "decoupled": False},
    "rmsprop": {"alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "decoupled": False},
    "adam": {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "decoupled": False},
    "adamw": {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.01, "decoupled": True},
}


# --- activations: f(x) and f′(x) -----------------------------------------------------------------
def activate(name: str, x: np.ndarray, alpha: float) -> np.ndarray:
    if name == "sigmoid":
        return 1 / (1 + np.exp(-x))
    if name == "tanh":
        return np.tanh(x)
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "leaky_relu":
        return np.where(x > 0, x, alpha * x)
    if name in ("identity", "linear"):
        return x.copy()
    if name == "softmax":
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    raise NotImplementedError(name)


def derivative(name: str, x: np.ndarray, a: np.ndarray, alpha: float) -> np.ndarray:
    if name == "sigmoid":
        return a * (1 - a)
    if name == "tanh":
        return 1 - a ** 2
    if name == "relu":
        return (x > 0).astype(float)
    if name == "leaky_relu":
        return np.where(x > 0, 1.0, alpha)
    if name in ("identity", "linear"):
        return np.ones_like(x)
    raise NotImplementedError(name)


# --- losses: per-sample value, its per-output terms, and ∂(per-sample loss)/∂ŷ ----------------------
def sample_losses(name: str, p: np.ndarray, y: np.ndarray):
    """``(ℓ per sample, per-output terms or None, ∂ℓₛ/∂ŷ per sample)`` for predictions ``p``."""
    k = p.shape[1]
    if name == "half_se":
        terms = 0.5 * (p - y) ** 2
        return terms.sum(axis=1), terms, p - y
    if name == "mse":
        terms = (p - y) ** 2
        return terms.mean(axis=1), terms, 2 * (p - y) / k
    if name == "bce":
        terms = -(y * np.log(p) + (1 - y) * np.log(1 - p))
        return terms.mean(axis=1), terms, (p - y) / (p * (1 - p)) / k
    if name == "cce":
        logs = np.where(y != 0, np.log(p), 0.0)
        return -(y * logs).sum(axis=1), None, np.where(y != 0, -y / p, 0.0)
    raise NotImplementedError(name)


# --- the problem file ---------------------------------------------------------------------------
def _matrix(rows) -> np.ndarray:
    a = np.array(rows, dtype=float)
    return a.reshape(1, -1) if a.ndim == 1 else a


def read(text: str) -> dict:
    """The problem as plain numbers: every array in the in_out orientation (samples × units)."""
    raw = tomllib.loads(text)
    layout = raw.get("layout", "in_out")
    data = raw["data"]
    batch_file = isinstance(data["x"][0], list)
    x = _matrix(data["x"])
    y = np.array(data["y"], dtype=float)
    y = y.reshape(len(x), -1)
    layers = []
    for spec in raw["layers"]:
        w = np.array(spec["weights"], dtype=float)
        if w.ndim == 1:
            w = w.reshape(-1, 1) if layout == "in_out" else w.reshape(1, -1)
        w = w if layout == "in_out" else w.T
        shared = not isinstance(spec["bias"], list)
        b = np.array([float(spec["bias"])] if shared else spec["bias"], dtype=float)  # a shared bias: one number
        bn = spec.get("batchnorm", False)
        bn_table = bn if isinstance(bn, dict) else spec
        units = w.shape[1]
        layer = {
            "W": w, "b": b, "shared": shared, "f": spec["activation"], "alpha": spec.get("alpha", 0.01),
            "p": spec.get("dropout", 0.0), "mask": _matrix(spec["mask"]) if "mask" in spec else None,
            "freeze": set(spec.get("freeze", ())), "bn": None,
        }
        if bn:
            layer["bn"] = {"eps": bn_table.get("eps", 1e-5),
                           "running_mean": np.array(bn_table.get("running_mean", [0.0] * units), dtype=float),
                           "running_var": np.array(bn_table.get("running_var", [1.0] * units), dtype=float)}
            layer["gamma"] = np.array(bn_table.get("gamma", [1.0] * units), dtype=float)
            layer["beta"] = np.array(bn_table.get("beta", [0.0] * units), dtype=float)
        layers.append(layer)
    loss = raw.get("loss", "half_se")
    loss = {"name": loss} if isinstance(loss, str) else dict(loss)
    opt = dict(raw.get("optimizer", {"name": "sgd", "lr": 0.1}))
    name = opt.get("name", "sgd")
    settings = {**OPTIMIZER_DEFAULTS[name], "lr": 0.1, **{k: v for k, v in opt.items() if k != "name"}}
    size = data.get("batch_size", len(x))
    per_epoch = -(-len(x) // size)
    steps = data["epochs"] * per_epoch if "epochs" in data else opt.get("steps", 1)
    return {"layout": layout, "batch_file": batch_file, "x": x, "y": y, "layers": layers,
            "mode": raw.get("mode", "train"), "loss": loss, "optimizer": name, "settings": settings,
            "size": size, "steps": steps, "data": data}


def iterations(problem: dict) -> list:
    """``[(step, sample indices)]``: mini-batches in file order, epoch after epoch."""
    n, size = len(problem["x"]), problem["size"]
    per_epoch = -(-n // size)
    out = []
    for step in range(1, problem["steps"] + 1):
        start = ((step - 1) % per_epoch) * size
        out.append((step, list(range(start, min(start + size, n)))))
    return out


def scaled_inputs(problem: dict, out: dict) -> np.ndarray:
    """x_new = (x − x_min)/(x_max − x_min) or (x − μ)/σ, statistics of all samples (σ the population
    standard deviation, as scikit-learn's StandardScaler) unless the file gives them."""
    x, data = problem["x"], problem["data"]
    scale = data.get("scale")
    if scale is None:
        return x
    if scale == "minmax":
        lo = np.array(data["min"], dtype=float) if "min" in data else x.min(axis=0)
        hi = np.array(data["max"], dtype=float) if "max" in data else x.max(axis=0)
        scaled = (x - lo) / (hi - lo)
    else:
        if "mean" in data:
            mean, std = np.array(data["mean"], dtype=float), np.array(data["std"], dtype=float)
        else:
            mean = x.mean(axis=0)
            std = np.sqrt(((x - mean) ** 2).mean(axis=0))
            out["x_mean"], out["x_std"] = mean, std
        scaled = (x - mean) / std
    out["x_scaled"] = scaled if problem["batch_file"] else scaled[0]
    return scaled


# --- one iteration -------------------------------------------------------------------------------
def work(text: str) -> dict:
    """Every quantity of the problem file ``text``, iteration by iteration."""
    problem = read(text)
    out: dict = {}
    xs = scaled_inputs(problem, out)
    layers = problem["layers"]
    params = {}
    for k, layer in enumerate(layers, start=1):
        params[("W", k)], params[("b", k)] = layer["W"].copy(), layer["b"].copy()
        if layer["bn"] is not None:
            params[("gamma", k)], params[("beta", k)] = layer["gamma"].copy(), layer["beta"].copy()
    trainable = [key for key in params if not _frozen(layers[key[1] - 1], key[0])]
    state = {key: {} for key in trainable}
    for step, samples in iterations(problem):
        _iteration(problem, step, samples, xs, params, trainable, state, out)
    return out


def _frozen(layer: dict, parameter: str) -> bool:
    return (parameter == "W" and "weights" in layer["freeze"]) or (parameter == "b" and "bias" in layer["freeze"])


def _iteration(problem, step, samples, xs, params, trainable, state, out):
    layers, mode, layout = problem["layers"], problem["mode"], problem["layout"]
    n = len(samples)
    suffix = "" if step == 1 else f"@{step}"

    def per_sample(name, array):
        out[name + suffix] = array if n > 1 else array[0]

    def put(name, array):
        out[name + suffix] = array

    def weights(array):
        return array if layout == "in_out" else array.T

    def bias(layer, array):
        return np.float64(array[0]) if layer["shared"] else array

    depth = len(layers)
    h = xs[samples]
    cache = []
    for k, layer in enumerate(layers, start=1):
        z = h @ params[("W", k)] + params[("b", k)]
        c = {"in": h, "z": z}
        per_sample(f"z{k}", z)
        pre = z
        if layer["bn"] is not None:
            bn, gamma, beta = layer["bn"], params[("gamma", k)], params[("beta", k)]
            if mode == "train":
                mu = z.mean(axis=0)
                var = ((z - mu) ** 2).mean(axis=0)  # biased, as BatchNorm1d normalises in training
                put(f"mu{k}", mu)
                put(f"var{k}", var)
                sd = np.sqrt(var + bn["eps"])
                zhat = (z - mu) / sd
            else:
                sd = np.sqrt(bn["running_var"] + bn["eps"])
                zhat = (z - bn["running_mean"]) / sd
            pre = gamma * zhat + beta
            per_sample(f"zhat{k}", zhat)
            per_sample(f"bn{k}", pre)
            c.update(zhat=zhat, sd=sd)
        a = activate(layer["f"], pre, layer["alpha"])
        c.update(pre=pre, a=a)
        if layer["f"] not in ("identity", "linear"):
            per_sample(f"a{k}", a)
        h = a
        if layer["p"] and mode == "train":
            keep = layer["mask"][samples]
            scale = keep / (1 - layer["p"])  # inverted dropout: kept units scaled by 1/(1 − p)
            h = a * scale
            per_sample(f"d{k}", h)
            c["drop"] = scale
        cache.append(c)
    y_hat = cache[-1]["a"]
    per_sample("y_hat", y_hat)
    y = problem["y"][samples]

    # --- the loss: the data term averaged over the batch, plus the penalties
    loss = problem["loss"]
    ell, terms, dell = sample_losses(loss["name"], y_hat, y)
    data_loss = ell.mean()
    kinds = ("W", "b") if loss.get("penalize_biases") else ("W",)
    penalized = [key for key in params if key[0] in kinds]
    penalty = 0.0
    if "l2" in loss:
        penalty += 0.5 * loss["l2"] * sum((params[key] ** 2).sum() for key in penalized)
    if "l1" in loss:
        penalty += loss["l1"] * sum(np.abs(params[key]).sum() for key in penalized)
    if "l1" in loss or "l2" in loss:
        put("data_loss", data_loss)
        put("penalty", penalty)
    put("loss", data_loss + penalty)
    if n > 1:
        put("sample_loss", ell)
    if terms is not None and y.shape[1] > 1:
        per_sample("loss_terms", terms)

    def penalty_gradient(key):
        g = np.zeros_like(params[key])
        if key[0] in kinds:
            g = g + loss.get("l2", 0.0) * params[key] + loss.get("l1", 0.0) * np.sign(params[key])
        return g

    # --- backward, from the output layer down
    grads = {}
    upstream = dell / n  # ∂L/∂ŷ: the per-sample derivative averaged over the batch
    for k in range(depth, 0, -1):
        layer, c = layers[k - 1], cache[k - 1]
        if k == depth:
            per_sample("dL/dy_hat", upstream)
            if layer["f"] == "softmax":
                g = upstream
                delta_pre = c["a"] * (g - (g * c["a"]).sum(axis=1, keepdims=True))  # the softmax Jacobian
                if loss["name"] == "cce" and np.allclose(y.sum(axis=1), 1.0, rtol=0, atol=1e-12):
                    per_sample(f"delta{k}", (y_hat - y) / n)  # the textbook form, checked against the Jacobian
                    assert np.allclose(delta_pre, (y_hat - y) / n, rtol=1e-12, atol=1e-15)
            else:
                fprime = derivative(layer["f"], c["pre"], c["a"], layer["alpha"])
                if layer["f"] not in ("identity", "linear"):
                    per_sample(f"da{k}/dz{k}", fprime)
                delta_pre = upstream * fprime
        else:
            above = params[("W", k + 1)]
            dh = delta_next @ above.T
            if "drop" in c:
                per_sample(f"dL/dd{k}", dh)
                da = dh * c["drop"]
            else:
                da = dh
                if above.shape[1] > 1:  # ∂L/∂a[j] = Σᵢ δ_{k+1}[i]·W_{k+1}[j][i]: the part through each unit i
                    per_sample(f"dL/da{k}_via", delta_next[:, None, :] * above[None, :, :])
            per_sample(f"dL/da{k}", da)
            fprime = derivative(layer["f"], c["pre"], c["a"], layer["alpha"])
            if layer["f"] not in ("identity", "linear"):
                per_sample(f"da{k}/dz{k}", fprime)
            delta_pre = da * fprime
        if layer["bn"] is not None:
            gamma = params[("gamma", k)]
            per_sample(f"dL/dbn{k}", delta_pre)
            grads[("gamma", k)] = (delta_pre * c["zhat"]).sum(axis=0)
            grads[("beta", k)] = delta_pre.sum(axis=0)
            dzhat = delta_pre * gamma
            per_sample(f"dL/dzhat{k}", dzhat)
            if mode == "train":  # through the batch statistics (Ioffe & Szegedy 2015)
                delta = (n * dzhat - dzhat.sum(axis=0) - c["zhat"] * (dzhat * c["zhat"]).sum(axis=0)) / (n * c["sd"])
            else:
                delta = dzhat / c["sd"]
        else:
            delta = delta_pre
        per_sample(f"delta{k}", delta)
        grads[("W", k)] = c["in"].T @ delta + penalty_gradient(("W", k))
        grads[("b", k)] = (np.array([delta.sum()]) if layer["shared"] else delta.sum(axis=0)) \
            + penalty_gradient(("b", k))
        if not _frozen(layer, "W"):
            put(f"dL/dW{k}", weights(grads[("W", k)]))
        if not _frozen(layer, "b"):
            put(f"dL/db{k}", bias(layer, grads[("b", k)]))
        if layer["bn"] is not None:
            put(f"dL/dgamma{k}", grads[("gamma", k)])
            put(f"dL/dbeta{k}", grads[("beta", k)])
        delta_next = delta
    per_sample("dL/dx", delta_next @ params[("W", 1)].T)

    # --- clipping (torch.nn.utils.clip_grad_norm_, then clip_grad_value_) and the update
    s = problem["settings"]
    used = {key: grads[key] for key in trainable}
    if "clip_norm" in s:
        norm = math.sqrt(sum((g ** 2).sum() for g in used.values()))
        factor = min(1.0, s["clip_norm"] / (norm + CLIP_EPS))
        put("grad_norm", norm)
        put("clip_scale", factor)
        used = {key: g * factor for key, g in used.items()}
    if "clip_value" in s:
        used = {key: np.clip(g, -s["clip_value"], s["clip_value"]) for key, g in used.items()}
    lr, lam = s["lr"], s["weight_decay"]
    for key in trainable:
        parameter, k = key
        layer = layers[k - 1]

        def shaped(array, parameter=parameter, layer=layer):
            if parameter == "W":
                return weights(array)
            return np.float64(array[0]) if parameter == "b" and layer["shared"] else array

        tag = f"{parameter}{k}"
        p, g = params[key], used[key]
        if "clip_norm" in s or "clip_value" in s:
            put(f"clipped_{tag}", shaped(g))
        if lam and not s["decoupled"]:
            g = g + lam * p  # coupled weight decay: the gradient gets λ·p
            put(f"g_{tag}", shaped(g))
        st = state[key]
        name = problem["optimizer"]
        if name in ("sgd", "momentum") and s["momentum"]:
            mu = s["momentum"]
            v = mu * st.get("v", 0.0) + g
            st["v"] = v
            put(f"v_{tag}", shaped(v))
            direction = g + mu * v if s["nesterov"] else v
            update = lr * direction
        elif name in ("sgd", "momentum"):
            update = lr * g
        elif name == "rmsprop":
            sq = s["alpha"] * st.get("s", 0.0) + (1 - s["alpha"]) * g ** 2
            st["s"] = sq
            put(f"s_{tag}", shaped(sq))
            update = lr * g / (np.sqrt(sq) + s["eps"])
        else:
            b1, b2 = s["betas"]
            t = st.get("t", 0) + 1
            m = b1 * st.get("m", 0.0) + (1 - b1) * g
            v = b2 * st.get("v", 0.0) + (1 - b2) * g ** 2
            m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
            st.update(t=t, m=m, v=v)
            for label, value in (("m", m), ("v", v), ("m_hat", m_hat), ("v_hat", v_hat)):
                put(f"{label}_{tag}", shaped(value))
            update = lr * m_hat / (np.sqrt(v_hat) + s["eps"])
        put(f"step_{tag}", shaped(update))
        new = p - update
        if lam and s["decoupled"]:
            new = new - lr * lam * p  # decoupled (AdamW): p ← p − η·λ·p besides the rule
        put(f"{tag}_new", shaped(new))
        params[key] = new
