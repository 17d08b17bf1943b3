import {
  HALLMARK_ROOT,
  OWNER_REPO,
  RehearsalError,
  expandMatrix,
  parseFileCommands,
  parseWorkflowCommands,
  prepareSimulatedBuildkit,
  rehearse
} from "./chunks/chunk-QTMN4ETU.js";
import "./chunks/chunk-BMWEG73I.js";
export {
  HALLMARK_ROOT,
  OWNER_REPO,
  RehearsalError,
  expandMatrix,
  parseFileCommands,
  parseWorkflowCommands,
  prepareSimulatedBuildkit,
  rehearse
};
