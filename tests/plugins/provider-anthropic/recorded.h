/* recorded.h - an Anthropic Messages stream as the API sends it (thinking,
 * text, two tool calls, pings), and the OpenAI chunks it must become, with
 * "created" written as 0 (see norm_created). Shared by test_stream.c (through
 * the .so) and test_translate.c (the translator alone). */
#ifndef ANT_TEST_RECORDED_H
#define ANT_TEST_RECORDED_H

#include <stddef.h>

#define EV(name, json) "event: " name "\ndata: " json "\n\n"

#define EV_START                                                                               \
    "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_01XY\",\"type\":\"message\","       \
    "\"role\":\"assistant\",\"model\":\"claude-test-20250101\",\"content\":[],"                \
    "\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":25,"              \
    "\"cache_read_input_tokens\":5,\"output_tokens\":1}}}"

static const char RECORDED[] =
    EV("message_start", EV_START)
    EV("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
       "\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}")
    EV("ping", "{\"type\": \"ping\"}")
    EV("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
       "\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"The user wants weather.\"}}")
    EV("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
       "\"delta\":{\"type\":\"signature_delta\",\"signature\":\"EqQBCgIYAhIM\"}}")
    EV("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}")
    EV("content_block_start", "{\"type\":\"content_block_start\",\"index\":1,"
       "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}")
    EV("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":1,"
       "\"delta\":{\"type\":\"text_delta\",\"text\":\"Let me \"}}")
    EV("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":1,"
       "\"delta\":{\"type\":\"text_delta\",\"text\":\"check \\\"the\\\" weather\\u2026\\n\"}}")
    EV("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":1}")
    EV("content_block_start", "{\"type\":\"content_block_start\",\"index\":2,"
       "\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_01A\",\"name\":\"get_weather\","
       "\"input\":{}}}")
    EV("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":2,"
       "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\"}}")
    EV("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":2,"
       "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"city\\\": \\\"Par\"}}")
    EV("ping", "{\"type\": \"ping\"}")
    EV("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":2,"
       "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"is\\\"}\"}}")
    EV("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":2}")
    EV("content_block_start", "{\"type\":\"content_block_start\",\"index\":3,"
       "\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_01B\",\"name\":\"get_time\","
       "\"input\":{}}}")
    EV("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":3,"
       "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{}\"}}")
    EV("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":3}")
    EV("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\","
       "\"stop_sequence\":null},\"usage\":{\"output_tokens\":42}}")
    EV("message_stop", "{\"type\":\"message_stop\"}");

#define CH(delta, finish)                                                                      \
    "{\"id\":\"msg_01XY\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":"       \
    "\"claude-test-20250101\",\"choices\":[{\"index\":0,\"delta\":" delta ",\"finish_reason\":" \
    finish "}]}"

static const char *const RECORDED_CHUNKS[] = {
    CH("{\"role\":\"assistant\",\"content\":\"\"}", "null"),
    CH("{\"content\":\"Let me \"}", "null"),
    CH("{\"content\":\"check \\\"the\\\" weather\xe2\x80\xa6\\n\"}", "null"),
    CH("{\"tool_calls\":[{\"index\":0,\"id\":\"toolu_01A\",\"type\":\"function\","
       "\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]}", "null"),
    CH("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\"}}]}", "null"),
    CH("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\": \\\"Par\"}}]}",
       "null"),
    CH("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"is\\\"}\"}}]}", "null"),
    CH("{\"tool_calls\":[{\"index\":1,\"id\":\"toolu_01B\",\"type\":\"function\","
       "\"function\":{\"name\":\"get_time\",\"arguments\":\"\"}}]}", "null"),
    CH("{\"tool_calls\":[{\"index\":1,\"function\":{\"arguments\":\"{}\"}}]}", "null"),
    CH("{}", "\"tool_calls\""),
};
#define RECORDED_NCHUNKS (sizeof RECORDED_CHUNKS / sizeof RECORDED_CHUNKS[0])
#define RECORDED_PROMPT 30     /* input 25 + cache read 5 */
#define RECORDED_COMPLETION 42

/* The usage chunk that follows with stream_options.include_usage. */
#define RECORDED_USAGE_CHUNK                                                                   \
    "{\"id\":\"msg_01XY\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":"       \
    "\"claude-test-20250101\",\"choices\":[],\"usage\":{\"prompt_tokens\":30,"                 \
    "\"completion_tokens\":42,\"total_tokens\":72}}"

#endif
