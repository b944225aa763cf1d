"""Command line: ``segreport run``, ``batch``, ``email`` and ``sample``.

Problems with the user's data or parameters print one message and exit with status 2,
without a traceback unless ``--debug`` is given. Ctrl-C ends a command quietly with
status 130.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from segreport import errors


class _Commands(click.Group):
    """The command group; ``segreport email`` is imported only when it is used, so that
    ``segreport run`` can start its notebook kernel before the heavy imports."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), "email"])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name == "email":
            from segreport.report.email_cli import email_command

            return email_command
        return super().get_command(ctx, name)


@click.group(cls=_Commands)
@click.option("--debug", is_flag=True, help="Show full tracebacks.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Quarterly customer-segment KPI reports."""
    ctx.obj = {"debug": debug}


@cli.command()
@click.option("--params", "params_file", type=click.Path(dir_okay=False), required=True,
              help="YAML params file, e.g. params/default.yaml.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a parameter (repeatable), e.g. --set period=2026Q2 or "
                   "--set columns.orders.amount=amt.")
@click.option("--notebook", type=click.Path(dir_okay=False), default=None,
              help="The master notebook (default: notebooks/segment_report.ipynb).")
def run(params_file: str, overrides: tuple[str, ...], notebook: str | None) -> None:
    """Execute the master notebook with papermill and render the report."""
    from segreport.report.kernel import ReusedKernel, default_notebook

    path = Path(notebook) if notebook else default_notebook()
    kernel = ReusedKernel()
    try:
        if path.is_file():  # the kernel starts and imports while this process does
            kernel.get(str(path.parent), hinted=True)
        from segreport.config import load_params
        from segreport.report.run import run_report

        run_report(load_params(params_file, overrides), path, kernel=kernel)
    finally:
        kernel.close()


@cli.command()
@click.option("--params", "params_file", type=click.Path(dir_okay=False), required=True,
              help="YAML params file, e.g. params/default.yaml.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a parameter (repeatable).")
@click.option("--by", default="business_unit", show_default=True,
              help="One report per value of this customers column.")
@click.option("--unit", "units", multiple=True,
              help="Only these values (repeatable; default: every value in the data).")
@click.option("--period", "periods", multiple=True,
              help="Quarter(s) to report (repeatable; default: the params file's period).")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Reports made in parallel.")
@click.option("--force", is_flag=True, help="Remake reports whose inputs have not changed.")
@click.option("--notebook", type=click.Path(dir_okay=False), default=None)
def batch(params_file: str, overrides: tuple[str, ...], by: str, units: tuple[str, ...],
          periods: tuple[str, ...], workers: int, force: bool, notebook: str | None) -> None:
    """One report per business unit (and period), in parallel, with an index.html."""
    from segreport.config import load_params
    from segreport.period import Period
    from segreport.report.batch import run_batch
    from segreport.report.email_cli import email_settings
    from segreport.report.names import INDEX_NAME

    params = load_params(params_file, overrides)
    if params.email:  # a bad e-mail setting stops the batch before any report is made
        email_settings(params, params_file, overrides)
    labels = [Period.parse(p, where="--period").label for p in periods] or None
    results = run_batch(params, periods=labels, units=list(units) or None, workers=workers,
                        force=force, notebook=Path(notebook) if notebook else None, by=by)
    click.echo("", err=True)
    for r in results:
        unit = errors.one_line(errors.clip(r.unit, 40))  # a name from the data: one line
        line = f"  {r.period} {unit:<20} {r.status:<8} {r.folder}"
        if r.status == "failed":
            line += f"\n      {r.error}"
        click.echo(line, err=True)
    failed = [r for r in results if r.status == "failed"]
    index = Path(params.output_dir) / (labels or [params.period])[0] / INDEX_NAME
    click.echo(f"segreport: {len(results) - len(failed)} of {len(results)} reports ready; "
               f"index: {index}", err=True)
    if failed:
        raise SystemExit(1)


@cli.command()
@click.option("--out", "out_dir", default="data/sample", show_default=True,
              help="Folder to write the sample tables into.")
@click.option("--customers", "n_customers", default=50_000, show_default=True)
@click.option("--seed", default=42, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"]), default="parquet",
              show_default=True)
@click.option("--subscription", is_flag=True, help="Add churn_date (subscription data).")
def sample(out_dir: str, n_customers: int, seed: int, fmt: str, subscription: bool) -> None:
    """Write the deterministic sample dataset."""
    from segreport.sample import generate_sample

    paths = generate_sample(out_dir, n_customers=n_customers, seed=seed, fmt=fmt,
                            subscription=subscription)
    click.echo(f"segreport: sample data written to {out_dir} ({', '.join(p.name for p in paths.values())})",
               err=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the command, turn our errors into a message and an exit status."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="segreport", standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("segreport: aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except SystemExit as exc:
        return int(exc.code or 0)
    except (errors.SegreportError, errors.NotebookError) as exc:
        if debug:
            raise
        click.echo(f"segreport: error: {exc}", err=True)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
