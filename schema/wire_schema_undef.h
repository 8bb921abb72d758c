/* SPDX-License-Identifier: BSD-3-Clause */
/* Undefine the row macros of wire_schema.def after one expansion. */
#undef WIRE_TABLE
#undef WIRE_F_U8
#undef WIRE_F_U16
#undef WIRE_F_U32
#undef WIRE_F_U64
#undef WIRE_F_BOOL
#undef WIRE_F_STR
#undef WIRE_F_BYTES
#undef WIRE_F_ID
#undef WIRE_F_ROLE
#undef WIRE_F_STATUS
#undef WIRE_F_STATUSES
#undef WIRE_F_U64S
#undef WIRE_F_U32S
#undef WIRE_F_STRS
#undef WIRE_F_IDS
#undef WIRE_F_TABLE
#undef WIRE_F_TABLES
