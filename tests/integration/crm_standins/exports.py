"""Export files in the layouts the CRMs write today, with each layout's hand-counted outcome.

Each layout is the header a CRM writes (the column names, the language, the encoding) and a few
deals; `Expected` is what the CRM's own reports say of them: deals won, lost and open and the
amount won. The account's custom stage labels are what a user adds to the config (`stages`).
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Expected:
    won: int
    lost: int
    open: int
    won_amount: float
    #: Rows the `closed_after_created` warn check counts (a close before the creation).
    closed_before_created: int = 0


@dataclass(frozen=True)
class Layout:
    name: str
    format: str
    file: str
    header: list[str]
    rows: list[list[str]]
    expected: Expected
    #: The account's own stage labels (the config's `[sources.stages]`).
    stages: dict[str, str] = field(default_factory=dict)
    encoding: str = "utf-8"
    bom: bool = False

    def write(self, folder: Path) -> Path:
        """The file as the CRM writes it: its encoding, a BOM where it writes one."""
        text = io.StringIO()
        csv.writer(text, lineterminator="\r\n").writerows([self.header, *self.rows])
        data = text.getvalue().encode(self.encoding)
        path = folder / self.file
        path.write_bytes((codecs.BOM_UTF8 if self.bom else b"") + data)
        return path

    def sources_toml(self, extra: str = "") -> str:
        stages = "".join(f'"{label}" = "{stage}"\n' for label, stage in self.stages.items())
        return (
            f'[[sources]]\nname = "deals"\nentity = "opportunities"\nformat = "{self.format}"\n'
            f'path = "{self.file}"\n{extra}' + (f"[sources.stages]\n{stages}" if stages else "")
        )


# Salesforce weekly Data Export: API field names, booleans true/false, datetimes in UTC with
# milliseconds, date-only CloseDate; written in Windows-1252, the export's default. The
# account's own stages: two open ones with accented names (one with an en dash, a byte that
# Latin-1 does not have) and custom closed stages "Signed" / "Lost to Competitor" that only
# the IsClosed / IsWon flags say are won or lost.
SF_DATA_EXPORT_HEADER = [
    "Id", "IsDeleted", "AccountId", "RecordTypeId", "IsPrivate", "Name", "Description",
    "StageName", "Amount", "Probability", "ExpectedRevenue", "CloseDate", "Type", "NextStep",
    "LeadSource", "IsClosed", "IsWon", "ForecastCategory", "ForecastCategoryName",
    "CurrencyIsoCode", "OwnerId", "CreatedDate", "CreatedById", "LastModifiedDate",
    "LastModifiedById", "SystemModstamp", "FiscalQuarter", "FiscalYear",
]  # fmt: skip


def _sf_row(
    n: int, name: str, stage: str, amount: str, p: str, close: str, closed: bool, won: bool,
    created: str, forecast: str,
) -> list[str]:  # fmt: skip
    return [
        f"006000000000{n:03d}", "false", f"001000000000{n % 3:03d}", "", "false", name,
        f"Notiz: Kundin wünscht „Angebot“ – {name}", stage, amount, p, amount, close,
        "New Customer", "", "Web", str(closed).lower(), str(won).lower(), forecast, forecast,
        "EUR", "005000000000001", created, "005000000000001", created, "005000000000001",
        created, "1", "2026",
    ]  # fmt: skip


SALESFORCE_DATA_EXPORT = Layout(
    name="salesforce data export",
    format="salesforce",
    file="Opportunity.csv",
    header=SF_DATA_EXPORT_HEADER,
    rows=[
        _sf_row(
            1,
            "Café Müller – Umbau",
            "Signed",
            "12000.0",
            "100",
            "2026-01-20",
            True,
            True,
            "2026-01-05T09:00:00.000Z",
            "Closed",
        ),
        _sf_row(
            2,
            "Boulangerie Lefèvre",
            "Lost to Competitor",
            "5000.0",
            "0",
            "2026-02-14",
            True,
            False,
            "2026-02-02T11:30:00.000Z",
            "Omitted",
        ),
        _sf_row(
            3,
            "Søren & Æsa “Pilot”",
            "Découverte",
            "30000.0",
            "20",
            "2026-11-30",
            False,
            False,
            "2026-03-01T08:15:00.000Z",
            "Pipeline",
        ),
        _sf_row(
            4,
            "Zoë Ltd",
            "Proposta – revisão",
            "8000.0",
            "50",
            "2026-12-15",
            False,
            False,
            "2026-04-10T14:00:00.000Z",
            "Pipeline",
        ),
        # closed on the day it was created: a date-only CloseDate against a CreatedDate time
        _sf_row(
            5,
            "Ñandú SA",
            "Closed Won",
            "18000.0",
            "100",
            "2026-06-01",
            True,
            True,
            "2026-06-01T09:45:00.000Z",
            "Closed",
        ),
        # entered into the CRM a week after it was signed
        _sf_row(
            6,
            "Façade GmbH",
            "Signed",
            "7000.0",
            "100",
            "2026-06-03",
            True,
            True,
            "2026-06-10T14:00:00.000Z",
            "Closed",
        ),
        _sf_row(
            7,
            "Ølstue",
            "Closed Lost",
            "2000.0",
            "0",
            "2026-07-20",
            True,
            False,
            "2026-07-07T16:20:00.000Z",
            "Omitted",
        ),
        _sf_row(
            8,
            "Crème Brûlée Co",
            "Perception Analysis",
            "4000.0",
            "70",
            "2027-01-31",
            False,
            False,
            "2026-08-01T10:00:00.000Z",
            "Pipeline",
        ),
    ],
    stages={"Découverte": "meeting", "Proposta – revisão": "proposal"},
    expected=Expected(won=3, lost=2, open=3, won_amount=37000, closed_before_created=1),
    encoding="cp1252",
)

# A Salesforce opportunities report exported as CSV: field labels, every value quoted, amounts
# with thousands separators, date-only Created Date. No IsClosed / IsWon columns: the stage
# labels decide, the account's own included.
SALESFORCE_REPORT = Layout(
    name="salesforce report",
    format="salesforce",
    file="report.csv",
    header=[
        "Opportunity Owner",
        "Account Name",
        "Opportunity Name",
        "Stage",
        "Fiscal Period",
        "Amount",
        "Probability (%)",
        "Age",
        "Close Date",
        "Created Date",
        "Next Step",
        "Lead Source",
        "Type",
        "Opportunity ID",
    ],
    rows=[
        [
            "Ana Ruiz",
            "Account 1",
            "Deal 1",
            "Signed",
            "Q1-2026",
            "12,000.00",
            "100",
            "15",
            "2026-01-20",
            "2026-01-05",
            "",
            "Web",
            "New Customer",
            "0061000000001",
        ],
        [
            "Ben Okafor",
            "Account 2",
            "Deal 2",
            "Closed Lost",
            "Q1-2026",
            "5,000.00",
            "0",
            "12",
            "2026-02-14",
            "2026-02-02",
            "",
            "Web",
            "New Customer",
            "0061000000002",
        ],
        [
            "Chen Li",
            "Account 3",
            "Deal 3",
            "Verbal Commit",
            "Q4-2026",
            "30,000.00",
            "90",
            "244",
            "2026-11-30",
            "2026-03-01",
            "Send contract",
            "Partner",
            "New Customer",
            "0061000000003",
        ],
        [
            "Ana Ruiz",
            "Account 0",
            "Deal 4",
            "Prospecting",
            "Q4-2026",
            "2,500.00",
            "10",
            "60",
            "2026-12-31",
            "2026-09-01",
            "",
            "Web",
            "New Customer",
            "0061000000004",
        ],
        [
            "Ben Okafor",
            "Account 1",
            "Deal 5",
            "Closed Won",
            "Q2-2026",
            "18,000.00",
            "100",
            "0",
            "2026-06-01",
            "2026-06-01",
            "",
            "Web",
            "Existing Customer",
            "0061000000005",
        ],
        [
            "Chen Li",
            "Account 2",
            "Deal 6",
            "Qualification",
            "Q1-2027",
            "4,000.00",
            "20",
            "30",
            "2027-01-31",
            "2026-10-01",
            "",
            "Web",
            "New Customer",
            "0061000000006",
        ],
    ],
    stages={"Signed": "won", "Verbal Commit": "negotiation"},
    expected=Expected(won=2, lost=1, open=3, won_amount=30000),
)

# HubSpot "All deals" exported from the deals index: property labels, "Is Deal Closed?" and
# the deal probability (1 won, 0 lost) beside the account's own stages: a custom closed-won
# stage "Contract Signed" and a closed-lost "Went Dark" that only the flags decide. Deal 105
# was closed at 09:00 on the day it was created at 15:20: its Close Date is read as a day (the
# preset's close date is a date), so a close on the day of creation, which is fine.
HUBSPOT_ALL_DEALS = Layout(
    name="hubspot all deals",
    format="hubspot",
    file="all-deals.csv",
    header=[
        "Record ID",
        "Deal Name",
        "Deal Stage",
        "Pipeline",
        "Amount",
        "Close Date",
        "Create Date",
        "Deal owner",
        "Deal probability",
        "Is Deal Closed?",
        "Last Modified Date",
    ],
    rows=[
        [
            "101",
            "Deal 101",
            "Closed Won",
            "Sales Pipeline",
            "12000",
            "2026-01-20 10:00",
            "2026-01-05 09:00",
            "Ana Ruiz",
            "1",
            "true",
            "2026-01-20 10:00",
        ],
        [
            "102",
            "Deal 102",
            "Went Dark",
            "Sales Pipeline",
            "5000",
            "2026-02-14 17:00",
            "2026-02-02 11:30",
            "Ben Okafor",
            "0",
            "true",
            "2026-02-14 17:00",
        ],
        [
            "103",
            "Deal 103",
            "Discovery Call",
            "Sales Pipeline",
            "30000",
            "2026-11-30 00:00",
            "2026-03-01 08:15",
            "Chen Li",
            "0.2",
            "false",
            "2026-09-01 08:15",
        ],
        [
            "104",
            "Deal 104",
            "Contract Sent",
            "Sales Pipeline",
            "8000",
            "2026-12-15 00:00",
            "2026-04-10 14:00",
            "Ana Ruiz",
            "0.9",
            "false",
            "2026-09-10 14:00",
        ],
        [
            "105",
            "Deal 105",
            "Contract Signed",
            "Sales Pipeline",
            "18000",
            "2026-06-04 09:00",
            "2026-06-04 15:20",
            "Ben Okafor",
            "1",
            "true",
            "2026-06-04 15:25",
        ],
        [
            "106",
            "Deal 106",
            "Closed Lost",
            "Sales Pipeline",
            "2000",
            "2026-07-20 12:00",
            "2026-07-07 16:20",
            "Chen Li",
            "0",
            "true",
            "2026-07-20 12:00",
        ],
        [
            "107",
            "Deal 107",
            "Appointment Scheduled",
            "Sales Pipeline",
            "4000",
            "2027-01-31 00:00",
            "2026-08-01 10:00",
            "Ana Ruiz",
            "0.2",
            "false",
            "2026-08-01 10:00",
        ],
    ],
    stages={"Discovery Call": "meeting"},
    expected=Expected(won=2, lost=2, open=3, won_amount=30000),
)

PIPEDRIVE_EN_HEADER = [
    "ID", "Title", "Creator", "Owner", "Value", "Currency of Value", "Weighted value",
    "Probability", "Organization", "Pipeline", "Contact person", "Stage", "Label", "Status",
    "Deal created", "Update time", "Last stage change", "Won time", "Lost time",
    "Deal closed on", "Lost reason", "Expected close date",
]  # fmt: skip


def _pd_row(n: int, status: str, stage: str, value: int, created: str, closed: str) -> list[str]:
    won = closed if status == "Won" else ""
    lost = closed if status == "Lost" else ""
    return [
        str(n), f"Deal {n}", "Ana Ruiz", "Ben Okafor", str(value), "EUR", str(value), "",
        f"Org {n}", "Sales", "Someone", stage, "", status, created, closed or created,
        created, won, lost, closed, "Price" if lost else "", "2026-12-31",
    ]  # fmt: skip


# Pipedrive's deals list exported today: no "Deal - " prefix, Status beside the stage the deal
# was last in. The account's pipeline has its own stage names.
PIPEDRIVE_EN = Layout(
    name="pipedrive english",
    format="pipedrive",
    file="deals.csv",
    header=PIPEDRIVE_EN_HEADER,
    rows=[
        _pd_row(1, "Won", "Contract Review", 12000, "2026-01-05 09:00:00", "2026-01-20 12:00:00"),
        _pd_row(2, "Lost", "Discovery", 5000, "2026-02-02 11:30:00", "2026-02-14 12:00:00"),
        _pd_row(3, "Open", "Quote Sent", 30000, "2026-03-01 08:15:00", ""),
        # closed in the morning, entered into Pipedrive in the afternoon: both have a time
        _pd_row(4, "Won", "Quote Sent", 8000, "2026-05-02 14:00:00", "2026-05-02 10:00:00"),
        _pd_row(5, "Open", "Contract Review", 2500, "2026-05-03 10:00:00", ""),
        _pd_row(6, "Lost", "Qualified", 4000, "2026-06-01 09:45:00", "2026-06-19 12:00:00"),
        _pd_row(7, "Open", "Discovery", 6000, "2026-07-07 16:20:00", ""),
    ],
    stages={"Discovery": "meeting", "Quote Sent": "proposal", "Contract Review": "negotiation"},
    expected=Expected(won=2, lost=2, open=3, won_amount=20000, closed_before_created=1),
)

# The same export in a Brazilian account: Portuguese headers and statuses, UTF-8 with a BOM.
PIPEDRIVE_PT_BR = Layout(
    name="pipedrive pt-BR",
    format="pipedrive",
    file="negocios.csv",
    header=[
        "ID",
        "Título",
        "Proprietário",
        "Valor",
        "Moeda",
        "Probabilidade",
        "Organização",
        "Funil",
        "Etapa",
        "Status",
        "Negócio criado em",
        "Negócio fechado em",
        "Data de fechamento esperada",
        "Motivo da perda",
        "Data atualizada",
    ],
    rows=[
        [
            "1",
            "Negócio 1",
            "João Araújo",
            "15000",
            "BRL",
            "",
            "Açaí Ltda",
            "Vendas",
            "Negociação",
            "Ganho",
            "2026-01-05 09:00:00",
            "2026-01-28 10:00:00",
            "2026-02-01",
            "",
            "2026-01-28 10:00:00",
        ],
        [
            "2",
            "Negócio 2",
            "Maria Conceição",
            "3000",
            "BRL",
            "",
            "Pão de Queijo SA",
            "Vendas",
            "Qualificação",
            "Perdido",
            "2026-02-02 11:30:00",
            "2026-02-20 16:00:00",
            "2026-03-01",
            "Preço",
            "2026-02-20 16:00:00",
        ],
        [
            "3",
            "Negócio 3",
            "João Araújo",
            "9000",
            "BRL",
            "",
            "Guaraná & Cia",
            "Vendas",
            "Proposta enviada",
            "Aberto",
            "2026-03-01 08:15:00",
            "",
            "2026-11-30",
            "",
            "2026-09-01 08:15:00",
        ],
        [
            "4",
            "Negócio 4",
            "Maria Conceição",
            "6000",
            "BRL",
            "",
            "Tapioca ME",
            "Vendas",
            "Proposta enviada",
            "Ganho",
            "2026-04-10 14:00:00",
            "2026-05-05 09:30:00",
            "2026-05-30",
            "",
            "2026-05-05 09:30:00",
        ],
        [
            "5",
            "Negócio 5",
            "João Araújo",
            "1200",
            "BRL",
            "",
            "Cajú Bebidas",
            "Vendas",
            "Qualificação",
            "Aberto",
            "2026-05-03 10:00:00",
            "",
            "2026-12-31",
            "",
            "2026-09-03 10:00:00",
        ],
        [
            "6",
            "Negócio 6",
            "Maria Conceição",
            "20000",
            "BRL",
            "",
            "Feijão Forte",
            "Vendas",
            "Negociação",
            "Aberto",
            "2026-06-01 09:45:00",
            "",
            "2027-01-31",
            "",
            "2026-09-01 09:45:00",
        ],
    ],
    stages={
        "Qualificação": "qualification",
        "Proposta enviada": "proposal",
        "Negociação": "negotiation",
    },
    expected=Expected(won=2, lost=1, open=3, won_amount=21000),
    bom=True,
)

# An export from before Pipedrive dropped the prefix: every deal column starts "Deal - ".
PIPEDRIVE_DEAL_PREFIX = Layout(
    name="pipedrive deal prefix",
    format="pipedrive",
    file="deals-prefixed.csv",
    header=[f"Deal - {h}" for h in PIPEDRIVE_EN_HEADER],
    rows=PIPEDRIVE_EN.rows,
    stages=PIPEDRIVE_EN.stages,
    expected=PIPEDRIVE_EN.expected,
)

LAYOUTS = {
    layout.name: layout
    for layout in (
        SALESFORCE_DATA_EXPORT,
        SALESFORCE_REPORT,
        HUBSPOT_ALL_DEALS,
        PIPEDRIVE_EN,
        PIPEDRIVE_PT_BR,
        PIPEDRIVE_DEAL_PREFIX,
    )
}
