"""De-identification guard (sql/checks/deid_*.sql): patient-level data refuses what identifies a person.

Names or initials and record numbers as patient ids, calendar dates and contact details in
patient ids and patient-level text, and exact ages over 89 are each refused with the fix in the
message. Each case adds or changes one thing in the demo package; the expected list is every
problem the importer reports. The bundled packages and ordinary clinical text still pass.
"""

from __future__ import annotations

import pytest

from bad_packages import Case, append, replace
from conftest import BUNDLED, DEMO
from registry import PackageError, Registry

PATIENT_ROW = "msc,M,60,,,,s-table"
ID_FIX = "use the paper's own number for the patient (1, 001, P1)"
DATE_FIX = (
    "a calendar date tied to a patient identifies them: record time as days from the index day "
    "(day, day_min/day_max; day 0 = the first infusion, negative before it), not as a date"
)
CONTACT_FIX = "contact details (an email address or phone number) identify the patient: remove them from the text"
AGE_FIX = (
    "record ages over 89 as 90+ (HIPAA Safe Harbor): leave age_years empty and set age_90_plus to true"
)


def new_patient(patient_id: str, rest: str = PATIENT_ROW):
    return append("patients.csv", f"{patient_id},{rest}")


CASES = [
    Case("name", new_patient("John Smith"),
         f"patients.csv, row 6, column patient_id: patient_id looks like a personal name or initials: {ID_FIX}, "
         "never a name or initials (value: 'John Smith')"),
    Case("name-surname-first", new_patient('"Smith, J."'),
         f"patients.csv, row 6, column patient_id: patient_id looks like a personal name or initials: {ID_FIX}, "
         "never a name or initials (value: 'Smith, J.')"),
    Case("initials", new_patient("J.S."),
         f"patients.csv, row 6, column patient_id: patient_id looks like a personal name or initials: {ID_FIX}, "
         "never a name or initials (value: 'J.S.')"),
    Case("accented-name", new_patient("José García"),
         f"patients.csv, row 6, column patient_id: patient_id looks like a personal name or initials: {ID_FIX}, "
         "never a name or initials (value: 'José García')"),
    Case("record-number", new_patient("4411823"),
         f"patients.csv, row 6, column patient_id: patient_id looks like a medical record number: {ID_FIX}, "
         "never a record, chart or insurance number (found 4411823) (value: '4411823')"),
    Case("mrn", new_patient("MRN-0042"),
         f"patients.csv, row 6, column patient_id: patient_id looks like a medical record number: {ID_FIX}, "
         "never a record, chart or insurance number (found MRN) (value: 'MRN-0042')"),
    Case("date-as-id", new_patient("2020-04-01"),
         f"patients.csv, row 6, column patient_id: patient_id holds a calendar date, which identifies the patient: "
         f"{ID_FIX} (found 2020-04-01) (value: '2020-04-01')"),
    Case("phone-as-id", new_patient("555-123-4567"),
         f"patients.csv, row 6, column patient_id: patient_id holds contact details (an email address or phone "
         f"number): {ID_FIX} (found 555-123-4567) (value: '555-123-4567')"),
    Case("iso-date-in-finding", replace("findings.csv", "hypotension,s-table", "hypotension on 2020-04-01,s-table"),
         f"findings.csv, row 2, column finding: {DATE_FIX} (found 2020-04-01) (value: 'hypotension on 2020-04-01')"),
    Case("slash-date-in-event-detail", replace("events.csv", "8,,,improved", "8,,,improved; discharged 01/04/2020"),
         f"events.csv, row 9, column detail: {DATE_FIX} (found 01/04/2020) (value: 'improved; discharged 01/04/2020')"),
    Case("written-date-in-treatment", replace("treatments.csv", "dexamethasone,corticosteroid,hospital,,,,",
                                               'dexamethasone,corticosteroid,hospital,,,"from April 1, 2020",'),
         f"treatments.csv, row 2, column detail: {DATE_FIX} (found April 1) (value: 'from April 1, 2020')"),
    Case("day-month-in-adverse-event", replace("adverse_events.csv", "3,fever,", "3,fever since 1st of April,"),
         f"adverse_events.csv, row 3, column term: {DATE_FIX} (found 1st of April) (value: 'fever since 1st of April')"),
    Case("month-year-in-comorbidity", replace("comorbidities.csv", "1,Hypertension,", "1,Hypertension (diagnosed March 2019),"),
         f"comorbidities.csv, row 2, column condition: {DATE_FIX} (found March 2019) "
         "(value: 'Hypertension (diagnosed March 2019)')"),
    Case("email-in-finding", replace("findings.csv", "hypotension,s-table", "hypotension (ask jsmith@example.org),s-table"),
         f"findings.csv, row 2, column finding: {CONTACT_FIX} (found jsmith@example.org) "
         "(value: 'hypotension (ask jsmith@example.org)')"),
    Case("phone-in-event-detail", replace("events.csv", "8,,,improved", "8,,,improved; tel +44 161 496 0000"),
         f"events.csv, row 9, column detail: {CONTACT_FIX} (found tel +44 161 496 0000) (value: 'improved; tel +44 161 496 0000')"),
    Case("age-over-89", replace("patients.csv", "4,msc,M,80", "4,msc,M,95"),
         f"patients.csv, row 5, column age_years: {AGE_FIX} (value: '95.0')"),
    # allowed: the paper's own labels and numbers, years alone, clinical numbers
    Case("paper-label-is-fine", new_patient("Patient A"), ""),
    Case("paper-number-is-fine", new_patient("P12"), ""),
    Case("short-number-is-fine", new_patient("01012"), ""),
    Case("age-89-is-fine", replace("patients.csv", "4,msc,M,80", "4,msc,M,89"), ""),
    Case("clinical-numbers-are-fine", replace("findings.csv", "hypotension,s-table",
                                               '"hypotension 85/40 mmHg in 2020, 1x10^6 cells/kg, SpO2 88-92%, may 10",s-table'), ""),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_deidentification_rule(case, demo_package):
    case.mutate(demo_package)
    if not case.expected:
        assert Registry.validate(demo_package).action == "valid"
        return
    with pytest.raises(PackageError) as raised:
        Registry.validate(demo_package)
    assert [str(p) for p in raised.value.problems] == [case.expected]


def test_age_above_the_plausible_range_is_refused_once(demo_package):
    """130 breaks the 0-120 range; the 90+ rule stays silent (one problem, not two)."""
    replace("patients.csv", "4,msc,M,80", "4,msc,M,130")(demo_package)
    with pytest.raises(PackageError) as raised:
        Registry.validate(demo_package)
    assert [str(p) for p in raised.value.problems] == [
        "patients.csv, row 5, column age_years: age_years must lie between 0 and 120 (value: '130.0')"
    ]


def test_study_level_text_is_not_checked(demo_package):
    """Study metadata, source quotes and study facts may hold dates (publication, recruitment)."""
    replace("sources.csv", "A hand-made series of four patients", "Received April 1, 2020; contact jsmith@example.org")(demo_package)
    replace("study_facts.csv", "Patients were followed for 28 days", "Recruited from 2020-04-01 to 2020-07-31")(demo_package)
    assert Registry.validate(demo_package).action == "valid"


@pytest.mark.parametrize("package", sorted(p.name for p in BUNDLED.iterdir() if p.is_dir()) + ["demo"])
def test_bundled_packages_pass_the_guard(package):
    assert Registry.validate(DEMO if package == "demo" else BUNDLED / package).action == "valid"
