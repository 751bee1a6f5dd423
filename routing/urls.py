from django.urls import path

from routing.views import capacity, disputes, setup, tester

app_name = "routing"

urlpatterns = [
    path("setup/", setup.setup_home, name="setup_home"),
    path("setup/territories/new/", setup.territory_edit, name="territory_create"),
    path("setup/territories/<slug:key>/", setup.territory_edit, name="territory_edit"),
    path("setup/territories/<slug:key>/move/", setup.territory_move, name="territory_move"),
    path("setup/territories/<slug:key>/remove/", setup.territory_remove, name="territory_remove"),
    path("setup/publish/", setup.setup_publish, name="setup_publish"),
    path("setup/discard/", setup.setup_discard, name="setup_discard"),
    path("setup/accounts/", setup.named_accounts, name="named_accounts"),
    path("setup/reps/", setup.rep_list, name="rep_list"),
    path("setup/reps/<int:user_id>/", setup.rep_edit, name="rep_edit"),
    path("setup/tester/", tester.tester_page, name="tester"),
    path("capacity/", capacity.capacity, name="capacity"),
    path("disputes/", disputes.dispute_list, name="dispute_list"),
    path("disputes/new/<int:lead_id>/", disputes.dispute_new, name="dispute_new"),
    path("disputes/<int:dispute_id>/", disputes.dispute_detail, name="dispute_detail"),
]
