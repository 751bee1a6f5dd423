"""manage.py import_leads: the same import from a shell, failing loudly on a bad file."""

import pytest
from django.core.management import CommandError, call_command

from leadops.models import AuditEntry, Lead
from tests.factories import LeadFactory
from tests.leadops.test_import import ada, salesforce_csv

pytestmark = pytest.mark.sqlite


def test_command_imports_a_file_and_prints_the_summary(db, tmp_path, capsys):
    path = tmp_path / "salesforce.csv"
    path.write_bytes(salesforce_csv(ada(), ada(Email="grace@acme.com")))

    call_command("import_leads", str(path))

    out = capsys.readouterr().out
    assert "Layout: Salesforce lead export (UTF-8, 2 rows)" in out
    assert "Imported salesforce.csv: 2 created, 0 updated, 0 unchanged, 1 accounts created" in out
    assert Lead.objects.count() == 2
    entry = AuditEntry.objects.get(action="lead.import")
    assert (entry.actor, entry.actor_label) == (None, "import_leads command")


def test_command_reports_bad_rows_and_imports_nothing(db, tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_bytes(salesforce_csv(ada(), ada(Email="nope"), ada(Email="kim@acme.com", NumberOfEmployees="-5")))

    with pytest.raises(CommandError, match="Nothing was imported: 2 of 3 rows have problems"):
        call_command("import_leads", str(path))

    captured = capsys.readouterr()
    assert "Layout: Salesforce lead export" in captured.out
    assert "line 3, Email: 'nope' is not an e-mail address" in captured.err
    assert "line 4, NumberOfEmployees: NumberOfEmployees must be a whole number >= 0, got '-5'" in captured.err
    assert Lead.objects.count() == 0


def test_command_dry_run_writes_nothing(db, tmp_path, capsys):
    path = tmp_path / "salesforce.csv"
    path.write_bytes(salesforce_csv(ada()))

    call_command("import_leads", str(path), "--dry-run")

    out = capsys.readouterr().out
    assert "Would import salesforce.csv: 1 created" in out
    assert "Dry run: nothing was written." in out
    assert Lead.objects.count() == 0
    assert not AuditEntry.objects.exists()


def test_command_refuses_a_file_it_cannot_recognise(db, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_bytes(b"Name,Phone\nAda,123\n")
    with pytest.raises(CommandError, match="missing Email"):
        call_command("import_leads", str(path))


def test_command_refuses_a_missing_file(db, tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_leads", str(tmp_path / "nowhere.csv"))


def test_command_prints_the_ids_of_the_leads_it_created_and_updated(db, tmp_path, capsys):
    existing = LeadFactory(email="ada@acme.com", title="Engineer")
    path = tmp_path / "salesforce.csv"
    path.write_bytes(salesforce_csv(ada(), ada(Email="grace@acme.com"), ada(Email="kim@acme.com")))

    call_command("import_leads", str(path))

    out = capsys.readouterr().out
    grace, kim = Lead.objects.get(email="grace@acme.com"), Lead.objects.get(email="kim@acme.com")
    assert kim.pk == grace.pk + 1
    assert f"Created lead ids: {grace.pk}-{kim.pk}" in out
    assert f"Updated lead ids: {existing.pk}" in out
    assert "3 leads queued for scoring." in out


def test_command_reports_the_rows_it_merged(db, tmp_path, capsys):
    path = tmp_path / "salesforce.csv"
    path.write_bytes(salesforce_csv(ada(), ada(Email="grace@acme.com"), ada(Email="ADA@acme.com")))
    call_command("import_leads", str(path))
    out = capsys.readouterr().out
    assert "Merged 1 row into an earlier row with the same e-mail: ada@acme.com (lines 2, 4)" in out
    assert Lead.objects.count() == 2


def test_command_reads_windows_1252_only_when_asked(db, tmp_path, capsys):
    path = tmp_path / "excel.csv"
    path.write_bytes(salesforce_csv(ada(FirstName="Renée"), encoding="cp1252"))
    with pytest.raises(CommandError, match="The file is not UTF-8: line 2"):
        call_command("import_leads", str(path))

    call_command("import_leads", str(path), "--encoding", "windows-1252")

    assert "Layout: Salesforce lead export (Windows-1252, 1 rows)" in capsys.readouterr().out
    assert Lead.objects.get().first_name == "Renée"
