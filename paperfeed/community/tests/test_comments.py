from __future__ import annotations

from django.urls import reverse

from paperfeed.community import comments
from paperfeed.community.models import Comment, ModerationAction
from paperfeed.community.tests.base import CommunityTestCase


class CommentTests(CommunityTestCase):
    def post(self, body: str, parent: Comment | None = None):
        data = {"body": body}
        if parent is not None:
            data["parent"] = parent.pk
        return self.client.post(reverse("community:comment_new", args=[self.paper.pk]), data)

    def test_a_member_comments_in_markdown_and_the_count_follows(self):
        self.as_member()
        response = self.post("Great **ablation** in `Table 2`.")
        comment = Comment.objects.get()
        assert response["Location"] == f"{self.paper.get_absolute_url()}#comment-{comment.pk}"
        assert comment.body_html == "<p>Great <strong>ablation</strong> in <code>Table 2</code>.</p>"
        assert self.refresh(self.paper).comments_local == 1
        html = self.client.get(self.paper.get_absolute_url()).content.decode()
        assert "<strong>ablation</strong>" in html

    def test_replies_nest_under_their_parent(self):
        self.as_member()
        self.post("First")
        first = Comment.objects.get()
        self.as_owner()
        self.post("A reply", parent=first)
        self.post("Another top-level")
        [root, other] = comments.thread(self.paper)
        assert root.comment == first and other.comment.body == "Another top-level"
        assert [n.comment.body for n in root.children] == ["A reply"]
        assert root.children[0].depth == 1
        assert self.refresh(self.paper).comments_local == 3

    def test_a_reply_to_a_comment_on_another_paper_is_refused(self):
        from paperfeed.community.tests import factories

        elsewhere = comments.post_comment(self.member, factories.paper(), "elsewhere")
        self.as_member()
        response = self.post("confused reply", parent=elsewhere)
        assert response.status_code == 400
        assert Comment.objects.count() == 1

    def test_an_empty_comment_is_refused_with_a_message(self):
        self.as_member()
        response = self.post("   ")
        assert response.status_code == 400
        assert b"A comment cannot be empty." in response.content
        assert not Comment.objects.exists()

    def test_the_author_edits_and_the_page_says_edited(self):
        comment = comments.post_comment(self.owner, self.paper, "tpyo")
        self.as_owner()
        url = reverse("community:comment_edit", args=[comment.pk])
        assert self.client.get(url).status_code == 200
        self.client.post(url, {"body": "typo"})
        comment.refresh_from_db()
        assert (comment.body, comment.body_html) == ("typo", "<p>typo</p>")
        assert comment.edited_at is not None
        assert self.refresh(self.paper).comments_local == 1

    def test_deleting_keeps_the_place_of_the_comment_in_the_thread(self):
        comment = comments.post_comment(self.owner, self.paper, "regret")
        comments.post_comment(self.member, self.paper, "reply", parent=comment)
        self.as_owner()
        self.client.post(reverse("community:comment_delete", args=[comment.pk]))
        comment.refresh_from_db()
        assert comment.deleted and comment.body == ""
        assert self.refresh(self.paper).comments_local == 1
        html = self.client.get(self.paper.get_absolute_url()).content.decode()
        assert "[deleted]" in html and "regret" not in html and "reply" in html

    def test_a_curator_hides_a_comment_with_a_reason_that_is_logged(self):
        comment = comments.post_comment(self.owner, self.paper, "buy cheap pills")
        self.as_curator()
        response = self.client.post(reverse("community:comment_moderate", args=[comment.pk]),
                                    {"hide": "1", "reason": "spam"})
        assert response.status_code == 302
        comment.refresh_from_db()
        assert comment.hidden and comment.hidden_reason == "spam"
        assert self.refresh(self.paper).comments_local == 0
        action = ModerationAction.objects.get()
        assert (action.actor, action.kind, action.reason, action.comment) == (
            self.curator, ModerationAction.Kind.HIDE_COMMENT, "spam", comment)
        html = self.client.get(self.paper.get_absolute_url()).content.decode()
        assert "[hidden by a curator: spam]" in html  # curators still see the tombstone
        self.as_member()
        html = self.client.get(self.paper.get_absolute_url()).content.decode()
        assert "cheap pills" not in html

    def test_members_see_where_a_hidden_comment_was_when_it_has_replies(self):
        hidden = comments.post_comment(self.owner, self.paper, "rude words")
        comments.post_comment(self.member, self.paper, "calm reply", parent=hidden)
        comments.set_hidden(hidden, True, "rude")
        self.as_member()
        html = self.client.get(self.paper.get_absolute_url()).content.decode()
        assert "[hidden by a curator: rude]" in html and "calm reply" in html
        assert "rude words" not in html

    def test_restoring_a_hidden_comment_counts_it_again(self):
        comment = comments.post_comment(self.owner, self.paper, "fine after all")
        self.as_curator()
        url = reverse("community:comment_moderate", args=[comment.pk])
        self.client.post(url, {"hide": "1", "reason": "looked like spam"})
        self.client.post(url, {"hide": "0", "reason": "it was not"})
        assert not Comment.objects.get().hidden
        assert self.refresh(self.paper).comments_local == 1
        assert ModerationAction.objects.count() == 2

    def test_hiding_needs_a_reason(self):
        comment = comments.post_comment(self.owner, self.paper, "x")
        self.as_curator()
        response = self.client.post(reverse("community:comment_moderate", args=[comment.pk]),
                                    {"hide": "1", "reason": ""})
        assert response.status_code == 400 and b"give a reason" in response.content
        assert not Comment.objects.get().hidden

    def test_members_cannot_hide_comments(self):
        comment = comments.post_comment(self.owner, self.paper, "x")
        self.as_member()
        response = self.client.post(reverse("community:comment_moderate", args=[comment.pk]),
                                    {"hide": "1", "reason": "I disagree"})
        assert response.status_code == 403
        assert not Comment.objects.get().hidden and not ModerationAction.objects.exists()

    def test_a_hidden_comment_cannot_be_edited_back_into_view(self):
        comment = comments.post_comment(self.owner, self.paper, "x")
        comments.set_hidden(comment, True, "spam")
        self.as_owner()
        response = self.client.post(reverse("community:comment_edit", args=[comment.pk]),
                                    {"body": "innocent now"})
        assert response.status_code == 403
        assert Comment.objects.get().body == "x"
