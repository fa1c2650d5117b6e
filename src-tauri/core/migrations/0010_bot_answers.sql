-- What the knowledge-base bot did with each question, for the Knowledge gaps view and the chat
-- statistics: the question as typed, whether the bot declined (no good answer: it cited
-- nothing and offered a human), its confidence and the incident numbers it cited (a JSON
-- array). One row per `bot_answer` message; "Did this help?" stays in chat_feedback.
CREATE TABLE bot_answers (
    message_id  INTEGER PRIMARY KEY REFERENCES chat_messages(id) ON DELETE CASCADE,
    session_id  INTEGER NOT NULL REFERENCES chat_sessions(id) ON DELETE CASCADE,
    question    TEXT NOT NULL,
    declined    INTEGER NOT NULL CHECK (declined IN (0, 1)),
    confidence  REAL NOT NULL,
    cited       TEXT NOT NULL DEFAULT '[]',
    created_at  TEXT NOT NULL
);
CREATE INDEX bot_answers_declined ON bot_answers(declined, created_at);
