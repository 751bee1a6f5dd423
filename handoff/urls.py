from django.urls import path

from handoff import views, views_inbox, views_marketing, views_queue, views_team

app_name = "handoff"

urlpatterns = [
    path("queue/", views_queue.queue_page, name="queue"),
    path("queue/count/", views_queue.queue_count, name="queue_count"),
    path("queue/export.csv", views_queue.queue_export, name="queue_export"),
    path("queue/reject/", views_queue.queue_bulk_reject, name="queue_bulk_reject"),
    path("queue/reassign/", views_queue.queue_bulk_reassign, name="queue_bulk_reassign"),
    path("leads/<int:lead_id>/accept/", views.lead_accept, name="lead_accept"),
    path("leads/<int:lead_id>/reject/", views.lead_reject, name="lead_reject"),
    path("leads/<int:lead_id>/activity/", views.lead_activity, name="lead_activity"),
    path("leads/<int:lead_id>/claim/", views.lead_claim, name="lead_claim"),
    path("leads/<int:lead_id>/sal/", views.lead_sal_accept, name="lead_sal_accept"),
    path("leads/<int:lead_id>/return/", views.lead_return, name="lead_return"),
    path("leads/<int:lead_id>/opportunity/", views.lead_opportunity, name="lead_opportunity"),
    path("inbox/", views_inbox.inbox, name="inbox"),
    path("team/", views_team.team_queues, name="team_queues"),
    path("team/reassign/", views_team.team_reassign, name="team_reassign"),
    path("team/<int:user_id>/", views_team.team_rep, name="team_rep"),
    path("rejections/", views_marketing.rejections, name="rejections"),
]
