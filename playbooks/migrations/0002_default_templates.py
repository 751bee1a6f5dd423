"""The playbook LeadOps ships with: BANT and CHAMP (version 1, active), the objection library with its five-step
talk tracks, and the demo / proposal / POC next-step templates. A frozen copy: later edits make new versions."""

from django.db import migrations
from django.utils import timezone

BANT = {
    "key": "bant",
    "name": "BANT",
    "description": "Budget, Authority, Need, Timeline: the classic test of whether a buyer can and will buy now.",
    "criteria": [
        {
            "key": "budget",
            "name": "Budget",
            "description": "Whether money is set aside, or can be found, for a solution of our size this year.",
            "met_means": "A budget (or a funding source) covers our likely price range and the contact can say "
            "roughly how much or who releases it.",
            "questions": {
                "it_director": [
                    "Is this project funded from the IT budget or from a business unit?",
                    "What did you spend on the tools this would replace last year?",
                ],
                "cfo": [
                    "Has a budget been set aside for this initiative this fiscal year?",
                    "What return would you need to see to approve a spend of this size?",
                ],
                "operations_lead": [
                    "Who pays for process tooling in your department today?",
                    "What does the current manual work cost you each month in hours?",
                ],
                "vp_sales": [
                    "Is this coming out of the sales budget or a shared RevOps budget?",
                    "What would a 10% lift in pipeline be worth to you this year?",
                ],
            },
        },
        {
            "key": "authority",
            "name": "Authority",
            "description": "Who decides, who signs, and whether we are talking to them or to someone who can "
            "bring us to them.",
            "met_means": "The economic buyer is named, and either is on the call or has agreed to a meeting.",
            "questions": {
                "it_director": [
                    "Besides you, who has to sign off on a new system like this?",
                    "Does security or procurement review it before a decision?",
                ],
                "cfo": [
                    "Above what amount does a purchase need your signature?",
                    "Who else on the leadership team weighs in on this decision?",
                ],
                "operations_lead": [
                    "Who would you need to convince to make this change?",
                    "How were similar tools chosen in the past, and who chose them?",
                ],
                "vp_sales": [
                    "Is this your decision, or does it go to the CRO or CEO?",
                    "Who would own the rollout on your team?",
                ],
            },
        },
        {
            "key": "need",
            "name": "Need",
            "description": "The business problem we solve for them, in their words, and what it costs them today.",
            "met_means": "The contact describes a concrete problem our product solves and can put a cost or a "
            "risk on leaving it unsolved.",
            "questions": {
                "it_director": [
                    "What breaks today in how leads move between your systems?",
                    "How much time does your team spend maintaining the current set-up?",
                ],
                "cfo": [
                    "Where do you see revenue leaking between marketing and sales?",
                    "How confident are you in the pipeline numbers you are given?",
                ],
                "operations_lead": [
                    "Walk me through what happens to a new lead today, step by step.",
                    "Where do leads wait longest, and why?",
                ],
                "vp_sales": [
                    "How many leads do your reps reject, and what are the reasons?",
                    "How fast does a hot lead reach a rep today?",
                ],
            },
        },
        {
            "key": "timeline",
            "name": "Timeline",
            "description": "When they need a solution in place, and what event drives that date.",
            "met_means": "A target date within the next two quarters, tied to an event (a renewal, a launch, a "
            "new fiscal year, a hiring plan).",
            "questions": {
                "it_director": [
                    "When does the contract of your current tool come up for renewal?",
                    "What else is on your team's roadmap this quarter?",
                ],
                "cfo": [
                    "Does this need to land in this fiscal year's budget?",
                    "When do you plan next year's spending?",
                ],
                "operations_lead": [
                    "By when would you like the new process running?",
                    "What happens if nothing changes by then?",
                ],
                "vp_sales": [
                    "Is there a sales kickoff or a new team starting that this should be ready for?",
                    "When would you want reps working leads this way?",
                ],
            },
        },
    ],
}

CHAMP = {
    "key": "champ",
    "name": "CHAMP",
    "description": "Challenges, Authority, Money, Prioritization: starts from the buyer's challenges rather than "
    "their budget.",
    "criteria": [
        {
            "key": "challenges",
            "name": "Challenges",
            "description": "The problems the buyer is trying to solve, and how badly they hurt.",
            "met_means": "At least one challenge we solve is named, with its impact on revenue, cost or risk.",
            "questions": {
                "it_director": [
                    "Which parts of your lead handling cause the most support tickets?",
                    "What integrations keep failing or need manual fixes?",
                ],
                "cfo": [
                    "What does it cost when a qualified lead is never followed up?",
                    "Which numbers in the funnel do you trust least?",
                ],
                "operations_lead": [
                    "What slows your team down most in a normal week?",
                    "Which manual steps would you remove first if you could?",
                ],
                "vp_sales": [
                    "What do your reps complain about most in the leads they get?",
                    "Where does the handoff from marketing to sales go wrong?",
                ],
            },
        },
        {
            "key": "authority",
            "name": "Authority",
            "description": "Who decides and who influences the decision.",
            "met_means": "The decision-maker and the main influencers are known, and the decision-maker is "
            "engaged (on the call or a meeting agreed).",
            "questions": {
                "it_director": [
                    "Who else would evaluate this with you?",
                    "Who has the final say if IT and sales disagree?",
                ],
                "cfo": [
                    "Would you be the one approving this, or is there a committee?",
                    "Who would you want to hear from before signing?",
                ],
                "operations_lead": [
                    "Who sponsors process changes in your organisation?",
                    "Who would lose or gain the most if this changed?",
                ],
                "vp_sales": [
                    "Who outside sales needs to agree to this?",
                    "Have you bought a tool like this before, and how did that go?",
                ],
            },
        },
        {
            "key": "money",
            "name": "Money",
            "description": "Whether the buyer can fund a solution to these challenges.",
            "met_means": "Funding exists or can be made available at our price range, and the contact knows the "
            "path to release it.",
            "questions": {
                "it_director": [
                    "Is there budget for new tooling this year, or would this replace an existing line?",
                    "What did the last comparable project cost?",
                ],
                "cfo": [
                    "How do you evaluate a spend like this: payback period, ROI, or something else?",
                    "Is there money set aside, or would it need a business case?",
                ],
                "operations_lead": [
                    "What would solving this be worth to your team per year?",
                    "Who would you ask for the funding?",
                ],
                "vp_sales": [
                    "What is one extra closed deal a month worth to you?",
                    "Could this come out of your enablement budget?",
                ],
            },
        },
        {
            "key": "prioritization",
            "name": "Prioritization",
            "description": "Where solving these challenges ranks among the buyer's other initiatives.",
            "met_means": "The buyer ranks this among their top three priorities for the next two quarters.",
            "questions": {
                "it_director": [
                    "Where does this sit against the other projects on your list?",
                    "What would you have to postpone to do this?",
                ],
                "cfo": [
                    "Is this one of the initiatives the board is watching this year?",
                    "What competes with it for funding?",
                ],
                "operations_lead": [
                    "If you could fix only one thing this quarter, would it be this?",
                    "What happens if this waits six months?",
                ],
                "vp_sales": [
                    "How does this compare with hiring or training as a way to hit your number?",
                    "Is this on your plan for the next quarter?",
                ],
            },
        },
    ],
}

OBJECTIONS = [
    {
        "key": "pricing",
        "name": "Pricing",
        "listen": "Let them finish. Note whether it is the total, the per-seat price or the timing of the spend.",
        "acknowledge": '"That\'s a fair concern; nobody wants to pay for a tool that does not pay for itself."',
        "clarify": '"Compared with what: your current tool, another quote, or the budget you have?"',
        "respond": "Tie the price to the cost of the problem they named (hours saved, deals not lost) and offer "
        "a smaller starting scope rather than a discount.",
        "confirm": '"If the numbers work as we just walked through, is price still what stands in the way?"',
    },
    {
        "key": "timeline",
        "name": "Timeline",
        "listen": "Hear out what else is going on: a reorganisation, a freeze, a launch.",
        "acknowledge": '"Understood, the timing has to work for your team, not ours."',
        "clarify": '"What would need to be true for this to start next quarter instead?"',
        "respond": "Show what waiting costs (leads lost per month) and propose a light first phase that fits "
        "around their other work.",
        "confirm": '"Shall we put a date on the calendar to revisit, so it does not slip?"',
    },
    {
        "key": "stakeholder_buy_in",
        "name": "Stakeholder buy-in",
        "listen": "Find out who is missing and what they care about.",
        "acknowledge": '"It makes sense that others need to be on board for a change like this."',
        "clarify": '"Who would push back, and what would they worry about?"',
        "respond": "Offer material for each stakeholder (a business case for finance, a security sheet for IT) "
        "and a joint session with them.",
        "confirm": '"Can we set up that meeting with them together this week?"',
    },
    {
        "key": "competitor_entrenchment",
        "name": "Competitor entrenchment",
        "listen": "Learn which tool they use, since when, and what they like about it.",
        "acknowledge": '"Switching is a real cost; if the current tool works, you should keep it."',
        "clarify": '"What does it not do today that you would want it to?"',
        "respond": "Focus on the gap they named and how customers moved from the same tool without a big-bang "
        "migration; never criticise the competitor.",
        "confirm": '"Would a side-by-side on that one gap be worth an hour of your team\'s time?"',
    },
    {
        "key": "other",
        "name": "Other",
        "listen": "Let them explain the concern fully before answering.",
        "acknowledge": "Repeat the concern in your own words so they know you heard it.",
        "clarify": "Ask one open question to find the real issue behind the objection.",
        "respond": "Answer that issue briefly, with a customer example if you have one.",
        "confirm": "Check that the answer resolved the concern before moving on.",
    },
]

NEXT_STEPS = [
    {
        "kind": "demo",
        "name": "Demo invitation",
        "body": "Hi {first name},\n\nThank you for the time today. As agreed, I would like to show you how LeadOps "
        "handles {the challenge you named} in a 30-minute demo tailored to your team.\n\nWould {date} at {time} "
        "work for you and {stakeholder}? I will send an invitation once you confirm.\n\nBest regards,\n{your name}",
    },
    {
        "kind": "proposal",
        "name": "Proposal follow-up",
        "body": "Hi {first name},\n\nAs discussed, please find our proposal attached. It covers {scope}, the "
        "rollout plan and pricing for {number} users.\n\nI have set aside {date} to walk you and {stakeholder} "
        "through it and answer questions.\n\nBest regards,\n{your name}",
    },
    {
        "kind": "poc",
        "name": "Proof of concept plan",
        "body": "Hi {first name},\n\nTo prove LeadOps on your own data, I suggest a two-week proof of concept:\n"
        "- success criteria: {criteria agreed on the call}\n- data: {lead source or export}\n- people: {names}\n"
        "- review meeting: {date}\n\nIf that matches what we discussed, I will send the set-up steps.\n\n"
        "Best regards,\n{your name}",
    },
]


def forwards(apps, schema_editor):
    QualificationTemplate = apps.get_model("playbooks", "QualificationTemplate")
    Criterion = apps.get_model("playbooks", "Criterion")
    Objection = apps.get_model("playbooks", "Objection")
    NextStepTemplate = apps.get_model("playbooks", "NextStepTemplate")
    now = timezone.now()
    for spec in (BANT, CHAMP):
        if QualificationTemplate.objects.filter(key=spec["key"]).exists():
            continue
        template = QualificationTemplate.objects.create(
            key=spec["key"],
            name=spec["name"],
            version=1,
            active=True,
            description=spec["description"],
            change_note="Shipped with LeadOps.",
            created_at=now,
        )
        for order, criterion in enumerate(spec["criteria"], start=1):
            Criterion.objects.create(template=template, order=order, required=True, **criterion)
    for order, objection in enumerate(OBJECTIONS, start=1):
        Objection.objects.get_or_create(key=objection["key"], defaults={**objection, "order": order})
    for order, step in enumerate(NEXT_STEPS, start=1):
        NextStepTemplate.objects.get_or_create(kind=step["kind"], defaults={**step, "order": order})


def backwards(apps, schema_editor):
    # Only what this migration made and nobody has used yet.
    QualificationTemplate = apps.get_model("playbooks", "QualificationTemplate")
    QualificationTemplate.objects.filter(key__in=["bant", "champ"], version=1, calls__isnull=True).delete()
    apps.get_model("playbooks", "Objection").objects.filter(raised__isnull=True).delete()
    apps.get_model("playbooks", "NextStepTemplate").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("playbooks", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
