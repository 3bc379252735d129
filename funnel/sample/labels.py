"""The labels the CRM writes: lead statuses, stages, sources, owners and other picklists."""

from __future__ import annotations

import numpy as np

#: Lead Status labels and the canonical stage each means (funnel.toml says the same).
LEAD_STATUSES: dict[str, str] = {
    "New": "prospecting",
    "Working": "qualification",
    "Nurture": "prospecting",
    "Qualified": "qualification",
    "Converted": "qualification",
    "Unqualified": "lost",
}
#: Opportunity stage labels in funnel order, and their canonical stages.
OPPORTUNITY_STAGES: dict[str, str] = {
    "Prospecting": "prospecting",
    "Qualification": "qualification",
    "Discovery Meeting": "meeting",
    "Proposal Sent": "proposal",
    "Negotiation": "negotiation",
    "Closed Won": "won",
    "Closed Lost": "lost",
    "Onboarding": "post_sale",
}
STAGE_LABELS: tuple[str, ...] = tuple(OPPORTUNITY_STAGES)
#: Labels of the unknown-stage dirt: deliberately mapped nowhere.
UNKNOWN_STAGE_LABELS: tuple[str, ...] = (
    "Stalled??",
    "On Hold (legacy)",
    "Pending Review",
    "Closed - Duplicate",
)
LEAD_SOURCES: tuple[str, ...] = (
    "Web",
    "Paid Search",
    "Referral",
    "Event",
    "Outbound",
    "Partner",
    "Webinar",
)
SOURCE_SHARE = (0.27, 0.15, 0.12, 0.10, 0.17, 0.09, 0.10)
SOURCE_CONVERSION = (0.38, 0.33, 0.62, 0.44, 0.32, 0.55, 0.40)
AUTHORITY_LABELS: tuple[str, ...] = (
    "Decision Maker",
    "Economic Buyer",
    "Influencer",
    "User",
    "None",
)
NEED_LABELS: tuple[str, ...] = ("High", "Medium", "Low", "None")
ACTIVITY_TYPES: tuple[str, ...] = ("Call", "Email", "Meeting", "Demo")
LOSS_REASONS: tuple[str, ...] = (
    "Price",
    "Competitor",
    "No Budget",
    "No Decision",
    "Timing",
    "Lost Contact",
    "Product Fit",
)
PIPELINES: tuple[str, ...] = ("New Business", "Expansion", "Renewal")
CURRENCIES: tuple[str, ...] = ("USD", "EUR", "GBP")
OWNERS: tuple[str, ...] = (
    "Maria Gonzalez",
    "James Whitfield",
    "Priya Raman",
    "Daniel Okafor",
    "Sophie Laurent",
    "Kevin O'Brien",
    "Aisha Bello",
    "Tomasz Nowak",
    "Emily Chen",
    "Marcus Reed",
    "Hannah Schmidt",
    "Diego Alvarez",
    "Rachel Goldberg",
    "Yuki Tanaka",
    "Olivia Brooks",
    "Samuel Mensah",
    "Chloe Dubois",
    "Nathan Price",
    "Fatima Zahra",
    "Lucas Ferreira",
    "Grace Kim",
    "Ethan Walsh",
    "Isabella Rossi",
    "Victor Petrov",
    "Megan Doyle",
)

#: Default probability (0-100) of each opportunity stage, in STAGE_LABELS order.
STAGE_PROBABILITY = np.array([10, 20, 30, 50, 70, 100, 0, 100], dtype=np.int64)
#: Indexes of Closed Won, Closed Lost and Onboarding in STAGE_LABELS.
WON, LOST, POST_SALE = 5, 6, 7
