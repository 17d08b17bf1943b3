import { createRequire as __hallmarkCreateRequire } from "node:module"; const require = __hallmarkCreateRequire(import.meta.url);
import{e as a,f as b}from"./chunk-IFQ5CHHN.js";import"./chunk-LD2QUAJ7.js";export{a as exec,b as getExecOutput};
