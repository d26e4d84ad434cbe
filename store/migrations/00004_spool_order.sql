-- Answers, messages and call-back requests reach Postgres through the
-- journal's spool, which may write them before (or long after) the row of
-- the conversation they belong to, for example when Redis or Postgres was
-- away for a while. They keep their conversation id but no longer insist
-- that the conversation row is already there.

-- +goose Up
ALTER TABLE answers DROP CONSTRAINT answers_conversation_id_fkey;
ALTER TABLE messages DROP CONSTRAINT messages_conversation_id_fkey;
ALTER TABLE callbacks DROP CONSTRAINT callbacks_conversation_id_fkey;

-- +goose Down
ALTER TABLE answers ADD CONSTRAINT answers_conversation_id_fkey FOREIGN KEY (conversation_id) REFERENCES conversations (id);
ALTER TABLE messages ADD CONSTRAINT messages_conversation_id_fkey FOREIGN KEY (conversation_id) REFERENCES conversations (id);
ALTER TABLE callbacks ADD CONSTRAINT callbacks_conversation_id_fkey FOREIGN KEY (conversation_id) REFERENCES conversations (id);
