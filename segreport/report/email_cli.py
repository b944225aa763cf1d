"""``segreport email``: send each unit's report, or write it as an ``.eml`` file.

Every message is built before the first one is sent, so a unit without recipients or an
incomplete report folder stops the command before anything goes out. A unit's report
folder is found from the unit's real name, recorded in the folder when it was published.
Each message sent is recorded beside the report (``segment_report.sent.json``): running
the command again sends only what was not sent, unless ``--resend``.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import click

from segreport.config import ReportParams, load_params, parse_set
from segreport.errors import EmailError, NotAllSent, clip, one_line
from segreport.period import Period
from segreport.report.email_message import (
    build_message,
    record_sent,
    sent_record,
    write_eml,
)
from segreport.report.email_settings import EmailSettings
from segreport.report.email_smtp import send_messages
from segreport.report.names import EML_NAME, NOTEBOOK_NAME
from segreport.report.publish import ALL_UNITS, read_report_meta, safe_name

ALL = ALL_UNITS


def email_settings(params: ReportParams, params_file: str | Path,
                   overrides: tuple[str, ...] | list[str] = ()) -> EmailSettings:
    """The validated ``email:`` section of ``params``; messages name ``params_file``, or
    ``--set`` for keys given with ``--set email.KEY=VALUE``."""
    email_set = parse_set(list(overrides)).get("email")
    set_keys = set(email_set) if isinstance(email_set, dict) else set()
    return EmailSettings.from_dict(params.email, where=str(params_file), set_keys=set_keys)


def load_email_params(params_file: str | Path,
                      overrides: tuple[str, ...] | list[str] = ()) -> tuple[ReportParams,
                                                                           EmailSettings]:
    """The report parameters and the validated ``email:`` section of a params file.

    ``--set email.KEY=VALUE`` overrides reach the e-mail settings.
    """
    params = load_params(Path(params_file), overrides)
    return params, email_settings(params, params_file, overrides)


def unit_of(folder: Path) -> str:
    """The unit a report folder is for, as written in the data (``All``: every unit), from
    the record written when it was published; a folder without one (made by an older
    segreport) is taken to be named after its unit."""
    meta = read_report_meta(folder)
    return meta["unit"] if meta else folder.name


def report_units(base: Path, wanted: tuple[str, ...]) -> list[tuple[str, Path]]:
    """(unit name, report folder) for ``--unit`` names, or every report under ``base``.

    Raises
    ------
    EmailError
        no report, a ``--unit`` without one, or two folders for the same unit name (a unit
        called ``All`` beside the report over every unit): recipients could not tell them
        apart.
    """
    folders = [p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")
               and (p / NOTEBOOK_NAME).is_file()] if base.is_dir() else []
    found = sorted(((unit_of(p), p) for p in folders),
                   key=lambda item: (item[0] != ALL, item[0].lower(), item[1].name))
    have = ", ".join(one_line(clip(unit, 40)) for unit, _ in found) or "none"
    if not wanted:
        if not found:
            raise EmailError(f"{base}: no report found; run `segreport run` (or `segreport "
                             "batch`) for this period first, or check --period")
        chosen = found
    else:
        chosen = []
        for unit in wanted:
            label = unit.strip() or ALL
            matches = [item for item in found if item[0] == label]
            if not matches:
                raise EmailError(f"--unit {clip(repr(unit))}: no report for it (reports found "
                                 f"under {base}: {have}); run `segreport run` for it first")
            chosen.extend(m for m in matches if m not in chosen)
    _check_one_folder_per_unit(chosen)
    return chosen


def _check_one_folder_per_unit(chosen: list[tuple[str, Path]]) -> None:
    seen: dict[str, Path] = {}
    for unit, folder in chosen:
        other = seen.setdefault(unit, folder)
        if other != folder:
            raise EmailError(
                f"the report folders {other} and {folder} are both for unit "
                f"{clip(repr(unit))} (a unit named {ALL!r} and the report over every unit); "
                "e-mail recipients cannot tell them apart: rename that unit in the data")


@click.command("email")
@click.option("--params", "params_file", type=click.Path(dir_okay=False), required=True,
              help="YAML params file with an 'email:' section, e.g. params/default.yaml.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a parameter (repeatable), e.g. --set email.smtp_port=2525.")
@click.option("--period", default=None, help="Quarter, e.g. 2026Q3 (default: the params "
                                             "file's period).")
@click.option("--unit", "units", multiple=True,
              help="Unit name as written in the data, 'All' for the whole company "
                   "(repeatable; default: every report of the period).")
@click.option("--dry-run", is_flag=True,
              help=f"Write {{report folder}}/{EML_NAME} for each unit instead of sending.")
@click.option("--resend", is_flag=True,
              help="Send again the reports already sent (by default each is sent once).")
def email_command(params_file: str, overrides: tuple[str, ...], period: str | None,
                  units: tuple[str, ...], dry_run: bool, resend: bool) -> None:
    """E-mail each unit's report: summary and charts in the body, full report attached.

    The SMTP password is read from the environment variable named by
    email.password_env (default SEGREPORT_SMTP_PASSWORD). Exit status 1 when a message
    could not be sent; running the command again sends only those.
    """
    params, settings = load_email_params(params_file, overrides)
    label = Period.parse(period if period is not None else params.period,
                         where="--period" if period is not None else "period").label
    base = Path(params.output_dir) / safe_name(label)
    built = []
    for unit, folder in report_units(base, units):
        record = None if dry_run or resend else sent_record(folder)
        if record is not None:
            click.echo(f"segreport: {one_line(unit)}: already sent ({record.get('sent_at')}); "
                       "not sent again (--resend sends it again)")
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            msg = build_message(folder, settings, label, unit)
        for w in caught:
            click.echo(f"segreport: warning: {w.message}", err=True)
        built.append((unit, folder, msg))

    if dry_run:
        for unit, folder, msg in built:
            path = write_eml(msg, folder / EML_NAME)
            click.echo(f"segreport: {one_line(unit)}: wrote {path} ({_describe(msg)})")
        return
    if built:
        _send(built, settings)


def _send(built: list, settings: EmailSettings) -> None:
    """Send the built messages; record each one sent in its report folder."""
    of = {id(msg): (unit, folder) for unit, folder, msg in built}

    def sent(msg, refused) -> None:
        unit, folder = of[id(msg)]
        record_sent(folder, msg, refused)
        line = f"segreport: {one_line(unit)}: sent ({_describe(msg)})"
        if refused:
            line += f"; refused by the server: {', '.join(refused)}"
        click.echo(line)

    def failed(msg, reason) -> None:
        click.echo(f"segreport: {one_line(of[id(msg)][0])}: NOT sent ({reason})")

    try:
        send_messages([msg for _, _, msg in built], settings, on_sent=sent, on_failed=failed)
    except NotAllSent as exc:
        names = ", ".join(one_line(clip(of[id(m)][0], 40)) for m, _ in exc.failed)
        raise NotAllSent(f"{len(exc.failed)} of {len(built)} e-mail(s) not sent ({names}); "
                         "run the same command again to send them: what was sent is recorded "
                         "and is not sent twice", exc.failed) from None


def _describe(msg) -> str:
    to = ", ".join(a.addr_spec for a in msg["To"].addresses)
    cc = msg["Cc"]
    if cc:
        to += f"; cc {', '.join(a.addr_spec for a in cc.addresses)}"
    files = [p.get_filename() for p in msg.iter_attachments()]
    return f"to {to}; attached: {', '.join(files)}"
