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
    p.add_argument("--data-dir", action="append", default=[], metavar="DIR",
                   help="also read a CSV dataset from DIR (by default only the problem's own folder and the "
                        "folders below it)")
    p.set_defaults(run=run)


def run(args) -> int:
    from contextlib import nullcontext

    from ..core.errors import InputError
    from ..core.files import OutputSet
    from ..workflows.train import dataset_path, history_files, run as train

    if args.epochs is not None and args.epochs < 1:
        raise InputError(f"--epochs must be at least 1, got {args.epochs}")
    if (args.trace_step is not None or args.plot) and not args.output:
        raise InputError("--trace-step and --plot write files: give -o DIR")
    out = None
    if args.output:  # checked before training: the folder is empty, new, or holds an earlier run
        from ..problem.schema import load_problem
        from ..workflows.train import training_spec

        problem = load_problem(args.problem)
        dataset = dataset_path(problem, training_spec(problem), args.data_dir)
        out = OutputSet(args.output, "train", inputs=[args.problem, dataset])
    with out or nullcontext():
        result, step = train(args.problem, epochs=args.epochs, progress=not args.no_progress,
                             trace_step=args.trace_step, data_dirs=args.data_dir)
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
                out.write(name, text)
            if step is not None:
                from ..workflows.derive import derive

                out.write(f"step-{args.trace_step}.md", derive(step).text)
            if args.plot:
                try:
                    from ..nn.plot import loss_curves
                except ImportError:
                    raise InputError("--plot needs matplotlib: pip install 'tracegrad[plot]'") from None
                loss_curves(h, out.staged("loss.png"))
            out.commit()
    return 0

