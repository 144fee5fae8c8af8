"""``tracegrad train PROBLEM``: run the training loop a problem file's ``[training]`` table describes."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("train", help="train a problem's network on the dataset its [training] table names",
                       description="Train the problem's network (its weights as the start, its loss and optimizer) "
                                   "on the dataset of its [training] table, with a progress bar; print the final "
                                   "train/test metrics; save the history (CSV, JSON) and, with the plot extra, the "
                                   "loss curve.")
    p.add_argument("problem", metavar="PROBLEM", help="problem file with a [training] table")
    p.add_argument("-o", "--output", metavar="DIR", help="directory for history.csv, history.json, loss.png")
    p.add_argument("--epochs", type=int, metavar="N", help="override the problem's epochs")
    p.add_argument("--trace-step", type=int, metavar="N",
                   help="also render the derivation of iteration N (its weights and batch) to DIR/step-N.md")
    p.add_argument("--plot", action="store_true", help="write DIR/loss.png (needs pip install 'tracegrad[plot]')")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args) -> int:
    from pathlib import Path

    from ..core.errors import InputError
    from ..core.files import write_output
    from ..workflows.train import history_files, run as train

    if args.epochs is not None and args.epochs < 1:
        raise InputError(f"--epochs must be at least 1, got {args.epochs}")
    if (args.trace_step is not None or args.plot) and not args.output:
        raise InputError("--trace-step and --plot write files: give -o DIR")
    out = Path(args.output) if args.output else None
    if out is not None:
        if out.exists() and not out.is_dir():
            raise InputError("exists and is not a directory", file=str(out))
        out.mkdir(parents=True, exist_ok=True)
    result, step = train(args.problem, epochs=args.epochs, progress=not args.no_progress,
                         trace_step=args.trace_step)
    h = result.history
    lines = [f"epochs {len(h.epoch_loss)}, iterations {h.iterations} ({h.iterations_per_epoch} per epoch)",
             f"train loss {result.train_loss:.6g}"]
    if result.test_loss is not None:
        lines.append(f"test loss {result.test_loss:.6g}")
    if result.train_accuracy is not None:
        lines.append(f"train accuracy {result.train_accuracy:.1%}")
    if result.test_accuracy is not None:
        lines.append(f"test accuracy {result.test_accuracy:.1%}")
    print("\n".join(lines))
    if out is not None:
        for name, text in history_files(result).items():
            write_output(text, str(out / name), inputs=[args.problem])
        if step is not None:
            from ..workflows.derive import derive

            write_output(derive(step).text, str(out / f"step-{args.trace_step}.md"), inputs=[args.problem])
        if args.plot:
            try:
                from ..nn.plot import loss_curves
            except ImportError:
                raise InputError("--plot needs matplotlib: pip install 'tracegrad[plot]'") from None
            loss_curves(h, out / "loss.png")
    return 0
