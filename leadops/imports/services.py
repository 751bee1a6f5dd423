"""Writing a lead import: all rows checked first, then leads and accounts written in bulk in one transaction.

All or nothing: a file with one bad row writes nothing, and a failure half-way rolls everything back. Existing
records are read in a few set-based queries up front (leads by e-mail, accounts by domain and by name), never row
by row, so that a 50,000-row file imports in seconds.

Every lead the import creates or changes, and every lead of an account it fills in, is queued for re-scoring in
the same transaction (as event ingestion does), and a worker is woken once it commits.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, connections, router, transaction
from django.db.models import NOT_PROVIDED
from django.db.models.functions import Lower
from django.utils import timezone

from leadops import rules
from leadops.imports.layouts import Layout
from leadops.imports.parsing import (
    AUTO_ENCODING,
    ImportFileError,
    LeadRow,
    ParsedFile,
    Repeat,
    RowError,
    parse_leads_file,
)
from leadops.models import Account, Lead
from leadops.services import as_actor, audit_log
from scoring.services.pending import leads_queue_for_rescore

logger = logging.getLogger(__name__)

COMMAND_ACTOR = "import_leads command"

# Rows per INSERT / UPDATE statement and values per IN (...) lookup: well inside SQLite's and PostgreSQL's limits on
# query parameters, large enough that a 50,000-row file takes a few dozen statements.
WRITE_BATCH = 1000
LOOKUP_CHUNK = 2000

# Contact fields an import overwrites on an existing lead when the file has a value for them.
_CONTACT_FIELDS = ("first_name", "last_name", "phone", "country")
# What the import reads of an existing lead; anything it may write must be here, or writing it back would fetch it
# lead by lead.
_LEAD_FIELDS_READ = (
    "id",
    "email",
    *_CONTACT_FIELDS,
    "title",
    "seniority",
    "department",
    "external_id",
    "account_id",
    "email_consent",
    "unsubscribed_at",
)
_ACCOUNT_FIELDS_READ = ("id", "name", "domain", "industry", "employees", "annual_revenue", "country")


@dataclass(frozen=True, slots=True)
class ImportedLead:
    """A lead the import created or updated, for the result to link to; pk is None for a lead a dry run would
    create."""

    pk: int | None
    email: str
    name: str
    line: int


@dataclass
class ImportResult:
    file_name: str
    dry_run: bool = False
    layout: Layout | None = None
    encoding: str = ""
    # A problem with the file as a whole (empty, unknown header); row problems are in `errors`.
    problem: str = ""
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    bad_rows: int = 0
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    accounts_created: int = 0
    accounts_updated: int = 0
    # Rows that repeated the e-mail of an earlier row and were merged into its lead.
    merged_rows: int = 0
    repeats: list[Repeat] = field(default_factory=list)
    # In the order of the file (the line each lead first appears on).
    created_leads: list[ImportedLead] = field(default_factory=list)
    updated_leads: list[ImportedLead] = field(default_factory=list)
    queued_for_scoring: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problem and self.error_count == 0

    @property
    def unreported_errors(self) -> int:
        return self.error_count - len(self.errors)


def leads_import(
    *,
    data: bytes,
    file_name: str,
    by,
    dry_run: bool = False,
    encoding: str = AUTO_ENCODING,
    now: datetime | None = None,
) -> ImportResult:
    """Import the leads of a Salesforce or HubSpot export; with dry_run, check and count but write nothing.

    `by` is the user who uploaded the file, or a string naming the component (COMMAND_ACTOR). `encoding` is the
    one the person chose (leadops.imports.parsing.ENCODING_CHOICES), AUTO_ENCODING to read only what is certain.
    """
    started = time.perf_counter()
    now = now or timezone.now()
    actor = as_actor(by)
    result = ImportResult(file_name=file_name, dry_run=dry_run)
    try:
        parsed = parse_leads_file(data, now=now, encoding=encoding)
    except ImportFileError as error:
        result.problem = str(error)
        result.seconds = time.perf_counter() - started
        return result
    result.layout, result.encoding, result.rows = parsed.layout, parsed.encoding, parsed.row_count
    result.merged_rows, result.repeats = parsed.merged_rows, parsed.repeats
    if not parsed.ok:
        result.errors, result.error_count, result.bad_rows = parsed.errors, parsed.error_count, parsed.bad_rows
        result.seconds = time.perf_counter() - started
        return result
    try:
        with transaction.atomic():
            filled_account_ids = _write(parsed, result, now=now)
            if not dry_run:
                _queue_for_scoring(result, filled_account_ids)
            audit_log(
                actor=actor,
                action="lead.import",
                object_type="leadops.lead",
                object_repr=f"{file_name} ({parsed.layout.label})"[:200],
                at=now,
                changes={
                    "file": file_name,
                    "layout": parsed.layout.key,
                    "rows": result.rows,
                    "created": result.created,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                    "accounts_created": result.accounts_created,
                    "accounts_updated": result.accounts_updated,
                    "merged_rows": result.merged_rows,
                    "queued_for_scoring": result.queued_for_scoring,
                },
            )
            if dry_run:
                transaction.set_rollback(True)
    except IntegrityError as error:
        # Someone else wrote one of the same leads or accounts between our read and our write.
        logger.warning("Import of %s rolled back: %s", file_name, error)
        result.problem = (
            "Another import or edit changed some of the same leads or accounts while this file was being imported. "
            "Nothing was imported; run the import again."
        )
        result.created = result.updated = result.unchanged = result.accounts_created = result.accounts_updated = 0
        result.created_leads, result.updated_leads, result.queued_for_scoring = [], [], 0
    result.seconds = time.perf_counter() - started
    return result


def _chunks(values: list, size: int) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _name_key(name: str) -> str:
    return " ".join(name.split()).lower()


def _write(parsed: ParsedFile, result: ImportResult, *, now: datetime) -> list[int]:
    """Write the rows; the ids of the existing accounts it filled in."""
    rows = parsed.rows
    existing_leads = _leads_by_email([row.email for row in rows])
    accounts = _AccountBook.load(rows, existing_leads)

    # First decide every row's account, so new accounts exist (with ids) before the leads that point at them.
    account_for_row: list[Account | None] = []
    for row in rows:
        lead = existing_leads.get(row.email)
        if lead is not None and lead.account_id is not None:
            # An existing lead keeps its account (RevOps may have placed it deliberately); the file only fills gaps.
            account = accounts.by_pk[lead.account_id]
            accounts.fill(account, row)
        else:
            account = accounts.for_row(row)
        account_for_row.append(account)

    Account.objects.bulk_create(accounts.new, batch_size=WRITE_BATCH)
    changed_accounts = [account for account in accounts.by_pk.values() if account.pk in accounts.changed_pks]
    account_fields = sorted(accounts.changed_fields)
    _update_in_place(Account, changed_accounts, account_fields)
    result.accounts_created, result.accounts_updated = len(accounts.new), len(changed_accounts)

    new_leads: list[Lead] = []
    new_rows: list[LeadRow] = []
    changed_leads: list[Lead] = []
    lead_fields: set[str] = set()
    for row, account in zip(rows, account_for_row, strict=True):
        lead = existing_leads.get(row.email)
        if lead is None:
            new_leads.append(_new_lead(row, account, now=now))
            new_rows.append(row)
            continue
        changed = _update_lead(lead, row, account, now=now)
        if changed:
            lead.updated_at = now  # a plain UPDATE does not apply auto_now
            lead_fields |= changed
            changed_leads.append(lead)
            result.updated_leads.append(ImportedLead(lead.pk, lead.email, _full_name(lead), row.line))
    _insert_in_bulk(Lead, new_leads)
    _update_in_place(Lead, changed_leads, sorted(lead_fields | {"updated_at"}))
    result.created, result.updated = len(new_leads), len(changed_leads)
    result.unchanged = len(rows) - result.created - result.updated
    # The SQLite path inserts without reading ids back; a dry run rolls back, so its new leads never get one.
    new_ids = {} if result.dry_run else _lead_ids_by_email([lead.email for lead in new_leads])
    result.created_leads = [
        ImportedLead(new_ids.get(lead.email), lead.email, _full_name(lead), row.line)
        for lead, row in zip(new_leads, new_rows, strict=True)
    ]
    return [account.pk for account in changed_accounts]


def _full_name(lead: Lead) -> str:
    return " ".join(name for name in (lead.first_name, lead.last_name) if name)


def _lead_ids_by_email(emails: list[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for chunk in _chunks(emails, LOOKUP_CHUNK):
        ids.update(Lead.objects.filter(email__in=chunk).values_list("email", "pk"))
    return ids


def _queue_for_scoring(result: ImportResult, filled_account_ids: list[int]) -> None:
    """Queue the leads created and updated, and every lead of an account the import filled in (its fit changed),
    for re-scoring; wake a worker once the transaction commits."""
    lead_ids = {lead.pk for lead in result.created_leads} | {lead.pk for lead in result.updated_leads}
    for chunk in _chunks(filled_account_ids, LOOKUP_CHUNK):
        lead_ids.update(Lead.objects.filter(account_id__in=chunk).values_list("pk", flat=True))
    lead_ids.discard(None)
    leads_queue_for_rescore(lead_ids)
    result.queued_for_scoring = len(lead_ids)
    if lead_ids:
        transaction.on_commit(_wake_scoring)


def _wake_scoring() -> None:
    # The leads are queued already (same transaction as the import); this only makes a worker drain the queue soon.
    from scoring.tasks import rescore_pending_soon

    rescore_pending_soon()


def _leads_by_email(emails: list[str]) -> dict[str, Lead]:
    leads: dict[str, Lead] = {}
    for chunk in _chunks(emails, LOOKUP_CHUNK):
        for lead in Lead.objects.filter(email__in=chunk).only(*_LEAD_FIELDS_READ):
            leads[lead.email] = lead
    return leads


def _new_lead(row: LeadRow, account: Account | None, *, now: datetime) -> Lead:
    created_at = row.created_at or now
    return Lead(
        email=row.email,
        first_name=row.first_name,
        last_name=row.last_name,
        phone=row.phone,
        title=row.title,
        seniority=rules.seniority_for_title(row.title),
        department=rules.department_for_title(row.title),
        country=row.country,
        account=account,
        source=row.source,
        source_detail=row.source_detail,
        external_id=row.external_id,
        email_consent=bool(row.email_consent),
        unsubscribed_at=now if row.opted_out else None,
        stage=rules.Stage.NEW,
        created_at=created_at,
        stage_changed_at=created_at,
    )


def _update_lead(lead: Lead, row: LeadRow, account: Account | None, *, now: datetime) -> set[str]:
    """Bring an existing lead up to date with the file; the names of the fields that changed.

    Stage, owner, scores, source and history are LeadOps' own and are never touched; contact details the file
    has are taken, blanks in the file never erase anything.
    """
    changed: set[str] = set()

    def put(name: str, value) -> None:
        if getattr(lead, name) != value:
            setattr(lead, name, value)
            changed.add(name)

    for name in _CONTACT_FIELDS:
        if value := getattr(row, name):
            put(name, value)
    if row.title and row.title != lead.title:
        # Seniority and department follow a new title only: an unchanged title keeps any correction made by hand.
        put("title", row.title)
        put("seniority", rules.seniority_for_title(row.title))
        put("department", rules.department_for_title(row.title))
    if row.external_id and not lead.external_id:
        put("external_id", row.external_id)
    if lead.account_id is None and account is not None:
        lead.account = account
        changed.add("account")
    if row.opted_out:
        put("email_consent", False)
        if lead.unsubscribed_at is None:
            put("unsubscribed_at", now)
    elif row.email_consent is False:
        put("email_consent", False)
    elif row.email_consent is True and lead.unsubscribed_at is None:
        # Someone who unsubscribed through LeadOps stays unsubscribed, whatever an older CRM export says.
        put("email_consent", True)
    return changed


class _AccountBook:
    """The accounts an import touches: the existing ones it matched, the new ones it will create, what it filled."""

    def __init__(self) -> None:
        self.by_pk: dict[int, Account] = {}
        self.by_domain: dict[str, Account] = {}
        self.by_name: dict[str, Account] = {}
        self.new: list[Account] = []
        self.changed_pks: set[int] = set()
        self.changed_fields: set[str] = set()

    @classmethod
    def load(cls, rows: list[LeadRow], existing_leads: dict[str, Lead]) -> _AccountBook:
        book = cls()
        account_ids = sorted({lead.account_id for lead in existing_leads.values() if lead.account_id is not None})
        for chunk in _chunks(account_ids, LOOKUP_CHUNK):
            book._remember(Account.objects.filter(pk__in=chunk).only(*_ACCOUNT_FIELDS_READ))
        # Only what the accounts already read cannot answer: a re-import matches most rows by their lead's account.
        domains = sorted({row.domain for row in rows if row.domain and row.domain not in book.by_domain})
        for chunk in _chunks(domains, LOOKUP_CHUNK):
            book._remember(Account.objects.filter(domain__in=chunk).only(*_ACCOUNT_FIELDS_READ))
        names = sorted(
            {
                _name_key(row.company)
                for row in rows
                if row.company and row.domain not in book.by_domain and _name_key(row.company) not in book.by_name
            }
        )
        for chunk in _chunks(names, LOOKUP_CHUNK):
            book._remember(
                Account.objects.annotate(name_key=Lower("name"))
                .filter(name_key__in=chunk)
                .only(*_ACCOUNT_FIELDS_READ)
                .order_by("pk")
            )
        return book

    def _remember(self, accounts: Iterable[Account]) -> None:
        for account in accounts:
            account = self.by_pk.setdefault(account.pk, account)
            if account.domain:
                self.by_domain.setdefault(account.domain, account)
            # Account names are not unique; of several "Acme"s the oldest is the one leads have always joined.
            key = _name_key(account.name)
            known = self.by_name.get(key)
            if known is None or account.pk < known.pk:
                self.by_name[key] = account

    def for_row(self, row: LeadRow) -> Account | None:
        """The account a lead belongs to: by web domain, else by company name, else a new one (None if neither)."""
        account = self.by_domain.get(row.domain) if row.domain else None
        if account is None and row.company:
            account = self.by_name.get(_name_key(row.company))
        if account is None:
            if not (row.domain or row.company):
                return None
            account = Account(name=row.company or row.domain, domain=row.domain)
            self.new.append(account)
            if row.domain:
                self.by_domain[row.domain] = account
            self.by_name.setdefault(_name_key(account.name), account)
        elif row.domain and not account.domain and row.domain not in self.by_domain:
            # Matched by name an account that had no domain yet: now it has one, and later rows find it by it.
            self._set(account, "domain", row.domain)
            self.by_domain[row.domain] = account
        self.fill(account, row)
        return account

    def fill(self, account: Account, row: LeadRow) -> None:
        """Firmographics the account lacks and the row has; what the account already knows is kept."""
        if row.industry and not account.industry:
            self._set(account, "industry", row.industry)
        if row.employees is not None and account.employees is None:
            self._set(account, "employees", row.employees)
        if row.annual_revenue is not None and account.annual_revenue is None:
            self._set(account, "annual_revenue", row.annual_revenue)
        if row.country and not account.country:
            self._set(account, "country", row.country)

    def _set(self, account: Account, name: str, value) -> None:
        setattr(account, name, value)
        if account.pk is not None:  # new accounts are inserted with everything set on them
            self.changed_pks.add(account.pk)
            self.changed_fields.add(name)


def _update_in_place(model, objects: list, field_names: list[str]) -> None:
    """Write `field_names` of `objects` back in one UPDATE ... FROM a staging table filled with executemany.

    Why not bulk_update: it builds a CASE WHEN per field and row, and updating 50,000 leads that way took 140 s on
    SQLite (almost all of it spent building the SQL); staging the values and joining once takes a few seconds.
    PostgreSQL and SQLite >= 3.33 both understand UPDATE ... FROM; older SQLite falls back to bulk_update.
    """
    if not objects:
        return
    connection = connections[router.db_for_write(model)]
    if connection.vendor == "sqlite" and connection.Database.sqlite_version_info < (3, 33):
        model.objects.bulk_update(objects, field_names, batch_size=500)  # pragma: no cover
        return
    meta = model._meta
    quote = connection.ops.quote_name
    fields = [meta.get_field(name) for name in field_names]
    staging = quote(f"import_staging_{meta.db_table}")
    table, pk_column = quote(meta.db_table), quote(meta.pk.column)
    definitions = [f"{pk_column} {meta.pk.rel_db_type(connection)} PRIMARY KEY"]
    definitions += [f"{quote(field.column)} {field.db_type(connection)}" for field in fields]
    assignments = ", ".join(f"{quote(field.column)} = {staging}.{quote(field.column)}" for field in fields)
    placeholders = ", ".join(["%s"] * (len(fields) + 1))
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {staging}")
        cursor.execute(f"CREATE TEMPORARY TABLE {staging} ({', '.join(definitions)})")
        for chunk in _chunks(objects, WRITE_BATCH):
            cursor.executemany(
                f"INSERT INTO {staging} VALUES ({placeholders})",
                [
                    [obj.pk] + [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in fields]
                    for obj in chunk
                ],
            )
        cursor.execute(
            f"UPDATE {table} SET {assignments} FROM {staging} WHERE {table}.{pk_column} = {staging}.{pk_column}"
        )
        cursor.execute(f"DROP TABLE {staging}")


def _insert_in_bulk(model, objects: list) -> None:
    """INSERT `objects` in as few round trips as the database allows; their primary keys are not read back.

    bulk_create sends 1000 rows per statement to PostgreSQL, which is the fastest way there. On SQLite Django caps a
    statement at 999 parameters, about 25 leads, and compiling 2,000 statements for 50,000 leads took two thirds of
    the import; one executemany per 1000 rows does the same work in a fraction of the time. Values are prepared
    exactly as bulk_create prepares them (pre_save, get_db_prep_save).
    """
    if not objects:
        return
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    fields = [field for field in meta.concrete_fields if not field.primary_key and not field.generated]
    # A database default cannot be sent as a parameter; leave such models to the ORM.
    if connection.vendor != "sqlite" or any(field.db_default is not NOT_PROVIDED for field in fields):
        model.objects.bulk_create(objects, batch_size=WRITE_BATCH)
        return
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})"
    with connection.cursor() as cursor:
        for chunk in _chunks(objects, WRITE_BATCH):
            cursor.executemany(
                sql,
                [
                    [field.get_db_prep_save(field.pre_save(obj, add=True), connection) for field in fields]
                    for obj in chunk
                ],
            )
