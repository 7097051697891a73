from django.contrib import admin

admin.site.site_header = "Tailor"
admin.site.site_title = "Tailor admin"
admin.site.index_title = "Content, personalization, consent and experiments"
