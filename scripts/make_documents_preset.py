"""Write src/sdbridge/mapping/presets/documents.yaml from the catalogue and the heading
synonyms below. The preset maps every field of the document-type WPs to what the documents
connector found for it (`evidence.<field>`). Run again after changing the synonyms."""

from __future__ import annotations

from pathlib import Path

import yaml

from sdbridge.profile import load_catalogue

WORK_PRODUCTS = ["WP.01", "WP.04", "WP.05", "WP.07", "WP.09", "WP.12", "WP.14", "WP.15", "WP.16", "WP.17", "WP.19"]
HEADINGS = {
    "goals": ["Business goals and objectives", "Business goals", "Objectives", "Goals"],
    "comment_log": ["Comment log", "Feedback log", "Capturing comments", "Customer comments", "Customer feedback"],
    "change_controls": [
        "Change controls",
        "Controls against unauthorised changes",
        "Controls against unauthorized changes",
        "Access control",
    ],
    "location": ["Location", "Storage location", "Where documents are kept"],
    "customer_assessment": ["Customer perspective", "Customer view"],
    "goals_results": ["Results of service goals", "Goal achievement", "Service goals"],
    "customer_issues": ["Customer issues", "Issues raised by customers"],
    "provider_assessment": ["Provider perspective", "Service provider perspective", "Our perspective"],
    "performance_vs_agreed": ["Current vs agreed performance", "Performance against agreed", "Performance vs agreed"],
    "provider_issues": ["Provider issues", "Internal issues"],
    "improvement_actions": ["Improvement actions", "Agreed improvement actions"],
    "review_schedule": ["Review schedule", "Annual review"],
    "tested_only": ["Only tested components", "Tested components", "Acceptance of components"],
    "component_steps": ["Steps to add move modify or remove components", "Add move modify remove", "Component changes"],
    "authorization_source": ["Authorization", "Authorisation", "Who authorizes", "Who authorises"],
    "change_schedule": ["Change schedule", "Planned changes"],
    "maintenance_schedule": ["Maintenance schedule", "Maintenance windows"],
    "key_business_events": ["Key business events", "Business events", "Freeze periods"],
    "service_catalogue_creation": ["Service catalogue", "Creating the service catalogue"],
    "prioritization_matrix": ["Prioritization matrix", "Prioritisation matrix", "Priority matrix"],
    "change_definitions": ["Change definitions", "Change types", "Types of change"],
    "communication_practices": ["Communication practices", "Communication"],
    "standard_communications": ["Standard communications", "Standard messages"],
    "security_measures": ["Information security", "Information security measures", "Security measures"],
    "cia_measures": ["Confidentiality integrity and availability", "CIA measures"],
    "services_offered": ["Services offered", "Services"],
    "boundaries": ["Boundaries", "Boundaries of service delivery", "Scope boundaries"],
    "technology": ["Technology used", "Technology"],
    "approval_authority": ["Approval authority"],
    "tools_methods": ["Tools methods and techniques", "Tools and methods"],
    "budget": ["Budget", "Budgets and cost estimates", "Cost estimates"],
    "resources": ["Resources", "Resources and allocation"],
    "responsibilities": ["Responsibilities and authority", "Responsibilities"],
    "risks": ["Risks", "Risk assessment"],
    "quality_measures": ["Quality assurance and performance measures", "Quality measures", "Performance measures"],
    "change_request_procedure": [
        "Creating a service change request",
        "Creating a change request",
        "Requesting a change",
    ],
    "schedule_update_procedure": ["Updating the service change schedule", "Updating the change schedule"],
    "emergency_change_procedure": ["Emergency changes", "Emergency service changes"],
    "removal_procedure": ["Removal of services or components", "Removing services", "Decommissioning"],
    "performance": ["Performance of the period", "Performance", "Service performance"],
    "previous_actions_status": ["Status of previous actions", "Previous actions"],
    "proposed_actions": ["Proposed actions", "Actions for the next period"],
}
SKIP = {"done", "significant", "evidenced_on"}


def main() -> None:
    catalogue = load_catalogue()
    maps = {}
    for wp_id in WORK_PRODUCTS:
        wp = catalogue.work_product(wp_id)
        fields = {
            "id": ["evidence.id", "path"],
            "title": ["title", "path"],
            "evidenced_on": ["evidence.approved_on", "modified"],
        }
        for name in wp.field_names:
            if name not in fields and name not in SKIP:
                fields[name] = f"evidence.{name}"
        maps[wp_id] = {"where": [{"from": "wp", "equals": wp_id}], "fields": fields}
    preset = {
        "name": "documents",
        "description": "A folder of Markdown documents with front matter (policies, procedures, plans, reports)",
        "options": {"headings": HEADINGS},
        "map": maps,
    }
    header = (
        "# Generated by scripts/make_documents_preset.py: edit the synonyms there.\n"
        "# Documents name their work product in front matter (`work_product: WP.14`); an item is\n"
        "# evidenced by a front-matter key named like its field, or by a heading (see `headings`).\n"
    )
    path = Path(__file__).resolve().parents[1] / "src" / "sdbridge" / "mapping" / "presets" / "documents.yaml"
    path.write_text(header + yaml.safe_dump(preset, sort_keys=False, allow_unicode=True, width=110), encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
