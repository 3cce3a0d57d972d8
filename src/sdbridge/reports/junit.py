"""JUnit XML: each (WP, item) check is a testcase, each process check too, so a CI pipeline
that runs sdbridge shows the gaps in its test report. A failure lists the records."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from sdbridge.assessment import Assessment
from sdbridge.words import plural

MAX_LISTED = 200


def build_junit(assessment: Assessment) -> ET.ElementTree:
    root = ET.Element("testsuites", name=f"sdbridge {assessment.profile}")
    findings = assessment.findings
    grouped = {key: group for key, group in findings.groupby("item")} if len(findings) else {}
    total = failures = 0
    for wp_id, w in assessment.work_products.items():
        if not w.fed:
            continue
        suite = ET.SubElement(root, "testsuite", name=f"{wp_id} {w.name}")
        count = fails = 0
        for item_id, coverage in w.items.items():
            count += 1
            case = ET.SubElement(suite, "testcase", classname=f"sdbridge.{wp_id}", name=f"{item_id} {coverage.label}")
            group = grouped.get(item_id)
            if group is not None and len(group):
                fails += 1
                records = group["record_id"].fillna("(work product)").astype(str).tolist()
                failure = ET.SubElement(
                    case,
                    "failure",
                    type="gap",
                    message=f"{plural(len(records), 'record')} missing or invalid: {item_id}",
                )
                shown = records[:MAX_LISTED]
                more = f"\n... and {len(records) - MAX_LISTED} more" if len(records) > MAX_LISTED else ""
                failure.text = "\n".join(shown) + more
        suite.set("tests", str(count))
        suite.set("failures", str(fails))
        total, failures = total + count, failures + fails
    if assessment.process_checks:
        suite = ET.SubElement(root, "testsuite", name="Process checks")
        fails = 0
        for check in assessment.process_checks:
            case = ET.SubElement(
                suite, "testcase", classname=f"sdbridge.{check.requirement}", name=f"{check.id} {check.title}"
            )
            if check.status == "gap":
                fails += 1
                failure = ET.SubElement(case, "failure", type="gap", message=check.reason)
                failure.text = "\n".join(check.records)
            elif check.status == "not_evidenced":
                ET.SubElement(case, "skipped", message=check.reason)
        suite.set("tests", str(len(assessment.process_checks)))
        suite.set("failures", str(fails))
        total, failures = total + len(assessment.process_checks), failures + fails
    root.set("tests", str(total))
    root.set("failures", str(failures))
    return ET.ElementTree(root)


def write_junit(assessment: Assessment, out: Path) -> Path:
    from sdbridge.files import atomic_write

    tree = build_junit(assessment)
    ET.indent(tree)
    return atomic_write(out / "junit.xml", lambda tmp: tree.write(tmp, encoding="utf-8", xml_declaration=True))
