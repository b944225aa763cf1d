"""``segreport email``: send each unit's report, or write it as an ``.eml`` file.

Every message is built before the first one is sent, so a unit without recipients or an
incomplete report folder stops the command before anything goes out.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import click

from segreport.config import ReportParams, load_params, parse_set
from segreport.period import Period
from segreport.report.email import (
    EML_NAME,
    NOTEBOOK_NAME,
    EmailError,
    EmailSettings,
    build_message,
    send_messages,
    write_eml,
)
from segreport.report.publish import safe_name

ALL = "All"


def load_email_params(params_file: str | Path,
                      overrides: tuple[str, ...] | list[str] = ()) -> tuple[ReportParams,
                                                                           EmailSettings]:
    """The report parameters and the validated ``email:`` section of a params file.

    ``--set email.KEY=VALUE`` overrides reach the e-mail settings.
    """
    path = Path(params_file)
    overridden = parse_set(list(overrides))
    email_set = overridden.get("email")
    set_keys = set(email_set) if isinstance(email_set, dict) else set()
    params = load_params(path, overrides)
    email_raw = params.email
    return params, EmailSettings.from_dict(email_raw, where=str(path), set_keys=set_keys)


def report_units(base: Path, wanted: tuple[str, ...]) -> list[tuple[str, Path]]:
    """(unit label, report folder) for ``--unit`` values, or every report under ``base``."""
    found = sorted((p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")
                    and (p / NOTEBOOK_NAME).is_file()),
                   key=lambda p: (p.name != ALL, p.name.lower())) if base.is_dir() else []
    if not wanted:
        if not found:
            raise EmailError(f"{base}: no report found; run `segreport run` (or `segreport "
                             "batch`) for this period first, or check --period")
        return [(p.name, p) for p in found]
    out = []
    for unit in wanted:
        folder = base / safe_name(unit.strip() or ALL)
        if not (folder / NOTEBOOK_NAME).is_file():
            have = ", ".join(p.name for p in found) or "none"
            raise EmailError(f"--unit {unit!r}: no report in {folder} (reports found under "
                             f"{base}: {have}); run `segreport run` for it first")
        out.append((folder.name, folder))
    return out


@click.command("email")
@click.option("--params", "params_file", type=click.Path(dir_okay=False), required=True,
              help="YAML params file with an 'email:' section, e.g. params/default.yaml.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a parameter (repeatable), e.g. --set email.smtp_port=2525.")
@click.option("--period", default=None, help="Quarter, e.g. 2026Q3 (default: the params "
                                             "file's period).")
@click.option("--unit", "units", multiple=True,
              help="Unit label = report folder name, 'All' for the whole company "
                   "(repeatable; default: every report folder of the period).")
@click.option("--dry-run", is_flag=True,
              help=f"Write {{report folder}}/{EML_NAME} for each unit instead of sending.")
def email_command(params_file: str, overrides: tuple[str, ...], period: str | None,
                  units: tuple[str, ...], dry_run: bool) -> None:
    """E-mail each unit's report: summary and charts in the body, full report attached.

    The SMTP password is read from the environment variable named by
    email.password_env (default SEGREPORT_SMTP_PASSWORD).
    """
    params, settings = load_email_params(params_file, overrides)
    label = Period.parse(period if period is not None else params.period,
                         where="--period" if period is not None else "period").label
    base = Path(params.output_dir) / safe_name(label)
    built = []
    for unit, folder in report_units(base, units):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            msg = build_message(folder, settings, label, unit)
        for w in caught:
            click.echo(f"segreport: warning: {w.message}", err=True)
        built.append((unit, folder, msg))

    if dry_run:
        for unit, folder, msg in built:
            path = write_eml(msg, folder / EML_NAME)
            click.echo(f"segreport: {unit}: wrote {path} ({_describe(msg)})")
        return

    units_of = {id(msg): unit for unit, _, msg in built}

    def sent(msg, refused) -> None:
        line = f"segreport: {units_of[id(msg)]}: sent ({_describe(msg)})"
        if refused:
            line += f"; refused by the server: {', '.join(refused)}"
        click.echo(line)

    send_messages([msg for _, _, msg in built], settings, on_sent=sent)


def _describe(msg) -> str:
    to = ", ".join(a.addr_spec for a in msg["To"].addresses)
    cc = msg["Cc"]
    if cc:
        to += f"; cc {', '.join(a.addr_spec for a in cc.addresses)}"
    files = [p.get_filename() for p in msg.iter_attachments()]
    return f"to {to}; attached: {', '.join(files)}"
