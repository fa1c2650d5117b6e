-- What the instance tells about a conversation, kept with the session and shown in its details.
-- `now_session_id`: the instance's conversation id (the VA reference's `nowSessionId`), echoed
-- in every later request once the instance has given one.
ALTER TABLE chat_sessions ADD COLUMN now_session_id TEXT;
-- The LiveChat handoff spec's `clientVariables` (tenantId, botId, conversationId, …) of the
-- latest payload that carried them: a JSON object.
ALTER TABLE chat_sessions ADD COLUMN client_variables TEXT;
